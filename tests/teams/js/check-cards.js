// Parses every card given (a JSON array of {where, card}) with the official adaptivecards library,
// targeting Adaptive Cards 1.5 with Teams' host config, and prints every error or warning it
// reports, plus any actions list longer than the host config allows. Exit code 1 when anything
// was reported. Run by tests/teams/test_cards_adaptivecards_js.py.
"use strict";
const fs = require("fs");
const path = require("path");
const AC = require("adaptivecards/dist/adaptivecards.js");

const hostConfig = new AC.HostConfig(JSON.parse(fs.readFileSync(path.join(__dirname, "teams-host-config.json"), "utf8")));
const maxActions = hostConfig.actions.maxActions;
const items = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const problems = [];

function actionLists(node, found) {
  if (Array.isArray(node)) {
    node.forEach((child) => actionLists(child, found));
  } else if (node && typeof node === "object") {
    if (Array.isArray(node.actions)) found.push(node.actions);
    for (const [key, value] of Object.entries(node)) {
      if (key !== "fallback") actionLists(value, found);
    }
  }
  return found;
}

for (const { where, card } of items) {
  const parsed = new AC.AdaptiveCard();
  parsed.hostConfig = hostConfig;
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    problems.push(`${where}: parse: ${event.message}`);
  }
  for (const event of parsed.validateProperties().validationEvents) {
    problems.push(`${where}: validate: ${event.message}`);
  }
  for (const list of actionLists(card, [])) {
    if (list.length > maxActions) problems.push(`${where}: ${list.length} actions, Teams shows ${maxActions}`);
  }
}

process.stdout.write(JSON.stringify({ checked: items.length, problems }) + "\n");
process.exit(problems.length ? 1 : 0);
