// Drives the M365 Agents Playground in Debian's headless Chromium (playwright-core, no browser
// download): types a legal threat in the personal chat and clicks through to the outcome.
// Usage: node playground.js <playground url>. Prints one JSON line {ok, steps, texts} and exits
// 0 when the outcome was reached. Run by tests/e2e/test_playground.py.
"use strict";
const { chromium } = require("playwright-core");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const LEGAL = "someone is threatening to sue me over my tweet";
const CLICKS = [
  ["Where was the post made?", "On a council account or page"],
  ["Is the post still online?", "Yes, it is still up"],
  ["Can you reach your line manager today?", "Yes"],
];
const OUTCOME = "Take the post down now";

async function main(url) {
  const steps = [];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: FLAGS });
  try {
    const page = await browser.newPage();
    // Nothing is fetched from the internet: the Playground's own assets come from localhost, and
    // anything else (fonts and animations on a CDN) is refused here rather than left to time out.
    await page.route("**/*", (route) => {
      const target = new URL(route.request().url());
      return ["127.0.0.1", "localhost"].includes(target.hostname) ? route.continue() : route.abort();
    });
    await page.goto(url, { waitUntil: "domcontentloaded" });
    const box = page.locator("[contenteditable=true]").first();
    await box.waitFor({ timeout: 30000 });
    await box.click();
    await box.type(LEGAL);
    await page.keyboard.press("Enter");
    steps.push("typed the legal threat");
    for (const [question, answer] of CLICKS) {
      await page.getByText(question).last().waitFor({ timeout: 30000 });
      await page.getByRole("button", { name: answer, exact: true }).last().click();
      steps.push(`answered "${answer}" to "${question}"`);
    }
    await page.getByText(OUTCOME, { exact: false }).last().waitFor({ timeout: 30000 });
    steps.push("reached the outcome");
    const texts = await page.locator("body").innerText();
    process.stdout.write(JSON.stringify({ ok: true, steps, outcome: texts.includes(OUTCOME) }) + "\n");
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, steps, error: String(err).slice(0, 500) }) + "\n");
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main(process.argv[2]);
