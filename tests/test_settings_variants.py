"""Every organisation setting changes the advice where the flows say it does, and only there.

For each rule in ``RULE_CHOICES`` and each of its values, the shipped flows are walked path by
path (``policybot paths FLOW --json``, run through the real command with a settings file, and
the underlying functions for the parts that command does not print: checklists and intro cards).
The tests check that every path renders under every value, that a rule changes the advice of
every flow that mentions it, that the differences are the ones docs/settings.md promises, and
that docs/settings.md's "Used by" lists name exactly the flows that use each rule.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.conversation.escalation import NoDirectory, escalation_context
from bot.conversation.library import FlowLibrary, default_flows_dir
from bot.conversation.paths import EXAMPLE_ACTOR, all_paths
from bot.language.flow_model import Flow
from bot.language.settings import DEFAULTS, RULE_CHOICES, Settings, load_settings
from bot.language.templates import render

REPO = Path(__file__).resolve().parents[1]
BASE = load_settings(None)


@cache
def library() -> FlowLibrary:
    """The shipped flows, loaded and validated once."""
    return FlowLibrary.load(default_flows_dir(), BASE)


def rules_in(flow: Flow) -> set[str]:
    """The rules a flow's text mentions; only these can change its advice."""
    return {name for name in RULE_CHOICES if f"org.rules.{name}" in flow.source}


FLOW_RULES = sorted((flow.id, rule) for flow in library().all() for rule in rules_in(flow))
VARIANTS = [(rule, value) for rule, values in RULE_CHOICES.items() for value in values]


def with_rules(**rules: Any) -> Settings:
    return BASE.with_overrides({"rules": rules})


def rendered(flow_id: str, settings: Settings) -> list[dict[str, Any]]:
    """Every path as the person would see it (cached per flow and rule choices)."""
    return _rendered(flow_id, tuple(sorted(settings.rules.items())))


@cache
def _rendered(flow_id: str, rules: tuple[tuple[str, Any], ...]) -> list[dict[str, Any]]:
    """Each question (intro and text) on every path, then the outcome's advice, steps and citations."""
    settings = with_rules(**dict(rules))
    flow = library().get(flow_id)
    user = NoDirectory().describe(EXAMPLE_ACTOR)
    out = []
    for path in all_paths(flow, settings):
        outcome = flow.states[path.outcome]
        targets = outcome.escalate.to if outcome.escalate else ()
        context = {
            "org": settings.template_org(),
            "user": user,
            "answers": {s.state: s.answer for s in path.steps},
            "score": 0,
            "score_total": 0,
            "escalation": escalation_context(list(dict.fromkeys(settings.target_name(t) for t in targets))),
        }
        cards = [render(flow.states[s.state].intro or "", context) for s in path.steps]
        items = [render(item, context) for item in outcome.checklist]
        out.append(
            {
                "asked": [(s.state, s.question) for s in path.steps],
                "answers": {s.state: s.answer for s in path.steps},
                "cards": cards,
                "outcome": path.outcome,
                "text": render(outcome.say or "", context),
                "checklist": [item for item in items if item],
                "cite": list(outcome.cites_for(context)),
            }
        )
    return out


def paths_through_cli(flow_id: str, rule: str, value: Any, tmp_path: Path) -> list[dict[str, Any]]:
    """``policybot --settings FILE paths FLOW --json`` with only this rule changed."""
    settings_file = tmp_path / f"{rule}-{value}.yaml"
    settings_file.write_text(yaml.safe_dump({"rules": {rule: value}}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--settings", str(settings_file), "paths", flow_id, "--json"])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


# --- every path renders under every value of every rule ----------------------------------------------


@pytest.mark.parametrize(("rule", "value"), VARIANTS, ids=[f"{r}={v}" for r, v in VARIANTS])
def test_every_path_of_every_flow_renders_under_each_value(rule: str, value: Any) -> None:
    settings = with_rules(**{rule: value})
    for flow in library().all():
        for path in rendered(flow.id, settings):
            assert path["text"], f"{flow.id}/{path['outcome']} says nothing with {rule}={value}"
            assert path["cite"], f"{flow.id}/{path['outcome']} cites nothing with {rule}={value}"
            assert all(c in library().registry for c in path["cite"])
            assert all("{{" not in t and "{%" not in t for t in [path["text"], *path["checklist"], *path["cards"]])


def test_every_path_renders_with_every_rule_away_from_its_default() -> None:
    """All the non-default choices at once (a council unlike the example one in every way)."""
    others = {name: next(v for v in values if v != DEFAULTS["rules"][name]) for name, values in RULE_CHOICES.items()}
    settings = with_rules(**others)
    for flow in library().all():
        assert rendered(flow.id, settings), flow.id


# --- a rule changes the advice of every flow that mentions it ---------------------------------------


@pytest.mark.parametrize(("flow_id", "rule"), FLOW_RULES, ids=[f"{f}:{r}" for f, r in FLOW_RULES])
def test_each_rule_changes_the_advice_of_each_flow_that_uses_it(flow_id: str, rule: str, tmp_path: Path) -> None:
    for value in RULE_CHOICES[rule]:
        # the command other tools use agrees with what the person is shown
        cli_paths = paths_through_cli(flow_id, rule, value, tmp_path)
        assert [(p["outcome"]["state"], p["outcome"]["cite"]) for p in cli_paths] == [
            (p["outcome"], p["cite"]) for p in rendered(flow_id, with_rules(**{rule: value}))
        ]
    # Each value gives different advice, with the flow's other rules at some setting (the Welsh
    # flow shows the disclaimer rule only where the Welsh Language Standards apply).
    others = sorted(rules_in(library().get(flow_id)) - {rule})
    for combination in itertools.product(*(RULE_CHOICES[o] for o in others)):
        fixed = dict(zip(others, combination, strict=True))
        shown = {
            json.dumps(rendered(flow_id, with_rules(**fixed, **{rule: v})), sort_keys=True) for v in RULE_CHOICES[rule]
        }
        if len(shown) == len(RULE_CHOICES[rule]):
            return
    pytest.fail(f"rules.{rule} changes nothing in {flow_id}, whatever its other rules are")


# --- the differences are the intended ones --------------------------------------------------------


def outcomes(flow_id: str, rule: str, value: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in rendered(flow_id, with_rules(**{rule: value})):
        found.setdefault(path["outcome"], []).append(path)
    return found


def questions(flow_id: str, rule: str, value: Any) -> set[str]:
    return {state for p in rendered(flow_id, with_rules(**{rule: value})) for state, _ in p["asked"]}


def cited(flow_id: str, rule: str, value: Any) -> set[str]:
    return {c for p in rendered(flow_id, with_rules(**{rule: value})) for c in p["cite"]}


def test_disclaimer_needed_chooses_between_appendix_b_and_devon_denbighshire() -> None:
    rule = "disclaimer_needed"
    # whenever identifiable: the bot asks whether the profile says where you work
    assert "identifiable" in questions("can-i-post", rule, "whenever_identifiable")
    assert "identifiable" not in questions("can-i-post", rule, "when_discussing_work")
    assert {"appb-personal-disclaimer", "notts-70"} <= cited("can-i-post", rule, "whenever_identifiable")
    assert not {"dcc-1-disclaimer", "denb-3-disclaimer"} & cited("can-i-post", rule, "whenever_identifiable")
    assert {"dcc-1-disclaimer", "denb-3-disclaimer"} <= cited("can-i-post", rule, "when_discussing_work")
    assert "appb-personal-disclaimer" not in cited("can-i-post", rule, "when_discussing_work")
    # a post about your own life with nothing else in it needs no disclaimer under Devon's rule
    go = outcomes("can-i-post", rule, "when_discussing_work")["go_personal"]
    assert all("identifiable" not in p["answers"] for p in go)


def test_care_staff_workplace_on_profile_chooses_between_nottinghamshire_35_and_denbighshire_3() -> None:
    rule = "care_staff_workplace_on_profile"
    for flow_id in ("can-i-post", "friend-request"):
        assert "notts-35b" in cited(flow_id, rule, "avoid")
        assert "denb-3-say-where-you-work" in cited(flow_id, rule, "allowed")
        assert "denb-3-say-where-you-work" not in cited(flow_id, rule, "avoid")
    [go] = outcomes("can-i-post", rule, "allowed")["go_personal"]
    assert any("You may say that you work for the council" in item for item in go["checklist"])


def test_name_on_council_accounts_chooses_between_nottinghamshire_47_and_devon_2_2() -> None:
    rule = "name_on_council_accounts"
    for flow_id in ("can-i-post", "run-community", "new-account"):
        assert "notts-47g" in cited(flow_id, rule, "up_to_you")
        assert "dcc-2.2-disclose-position" not in cited(flow_id, rule, "up_to_you")
        assert "dcc-2.2-disclose-position" in cited(flow_id, rule, "disclose_position")
        assert "notts-47g" not in cited(flow_id, rule, "disclose_position")


def test_children_as_contacts_chooses_between_nottinghamshire_29_and_denbighshire_5() -> None:
    rule = "children_as_contacts"
    narrow = outcomes("friend-request", rule, "clients_and_families")
    wide = outcomes("friend-request", rule, "social_workers_teachers_no_children")
    assert "decline_child_role" not in narrow and "decline_child_role" in wide
    assert "child_role" in questions("friend-request", rule, "social_workers_teachers_no_children")
    # Denbighshire's rule has no family exception for social workers and teachers
    family = [p for p in wide["decline_child_role"] if p["answers"]["child_known"].startswith("They are in my family")]
    assert family and all(p["asked"][-1] == ("child_role", "Are you a social worker or a teacher?") for p in family)
    assert "denb-5-children-contacts" in cited("join-group", rule, "social_workers_teachers_no_children")
    assert "denb-5-children-contacts" not in cited("join-group", rule, "clients_and_families")


def test_new_account_approval_decides_who_approves_in_every_flow_that_mentions_it() -> None:
    rule = "new_account_approval"
    assert "approved_digital" in questions("can-i-post", rule, "digital_team")
    assert "approved_manager" in questions("can-i-post", rule, "line_manager")
    assert "approved_digital" not in questions("can-i-post", rule, "line_manager")
    # the line-manager variant of new-account does not ask for the manager's support first
    assert "manager" in questions("new-account", rule, "digital_team")
    assert "manager" not in questions("new-account", rule, "line_manager")
    assert "act_request_manager" in outcomes("new-account", rule, "line_manager")


def test_speaking_as_employee_keeps_unauthorised_staff_from_replying_for_the_council() -> None:
    rule = "speaking_as_employee"
    assert "elsewhere_authorised_only" in outcomes("negative-comment", rule, "authorised_only")
    assert "elsewhere" not in outcomes("negative-comment", rule, "authorised_only")
    assert "criticism_answer_authorised_only" in outcomes("join-group", rule, "authorised_only")
    assert "criticism_answer" in outcomes("join-group", rule, "encouraged")


def test_personal_use_and_welsh_rules_still_apply_where_they_did() -> None:
    assert "stop_council_it" in outcomes("can-i-post", "personal_use_on_council_it", "never")
    assert "stop_council_it" not in outcomes("can-i-post", "personal_use_on_council_it", "breaks_only")
    assert "denb-5-welsh-bilingual" in cited("can-i-post", "welsh_language_standards", True)
    assert "denb-5-welsh-bilingual" not in cited("can-i-post", "welsh_language_standards", False)
    assert "denb-5-welsh-bilingual" in cited("new-account", "welsh_language_standards", True)
    cards = {c for p in rendered("onboarding", with_rules(welsh_language_standards=True)) for c in p["cards"]}
    assert any("Welsh and English" in c for c in cards)


# --- docs/settings.md says which flows use each rule ------------------------------------------------


def used_by_in_docs() -> dict[str, set[str]]:
    text = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    found = {}
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        heading = section.splitlines()[0]
        match = re.fullmatch(r"`rules\.([a-z_]+)`", heading.strip())
        if not match:
            continue
        used = re.search(r"^Used by (.+?)(?:\n\n|\Z)", section, flags=re.MULTILINE | re.DOTALL)
        assert used, f"docs/settings.md: rules.{match.group(1)} has no 'Used by' paragraph"
        found[match.group(1)] = set(re.findall(r"`([a-z][a-z-]+)`", used.group(1)))
    return found


def test_settings_doc_lists_every_rule_and_exactly_the_flows_that_use_it() -> None:
    documented = used_by_in_docs()
    assert set(documented) == set(RULE_CHOICES)
    for rule in RULE_CHOICES:
        using = {flow for flow, r in FLOW_RULES if r == rule}
        assert documented[rule] == using, f"rules.{rule}: docs say {sorted(documented[rule])}, flows {sorted(using)}"
