"""bot.language.settings: defaults, overlays, and a bad settings file reported as file:line problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import FileProblems
from bot.language.settings import DEFAULTS, RULE_CHOICES, load_settings
from tests.core.fixtures.flowfiles import line_of, write


def problems_in(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    path = write(tmp_path, "policybot.yaml", text)
    with pytest.raises(FileProblems) as caught:
        load_settings(path)
    assert all(p.file == str(path) for p in caught.value.problems)
    return [(p.line, p.message) for p in caught.value.problems]


def test_no_file_means_the_defaults() -> None:
    settings = load_settings(None)
    assert settings.path is None
    assert settings.org["name"] == DEFAULTS["org"]["name"]
    assert settings.rules == DEFAULTS["rules"]
    assert set(settings.targets) == {"line_manager", "comms", "legal", "hr", "safeguarding"}
    # every rule where the councils differ has a default that is one of its choices
    assert set(settings.rules) == set(RULE_CHOICES)
    assert all(settings.rules[name] in choices for name, choices in RULE_CHOICES.items())


def test_a_file_overlays_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "policybot.yaml",
        """
        org:
          name: Testshire County Council
        rules:
          personal_use_on_council_it: never
        escalation:
          comms: {name: Testshire Comms, email: comms@testshire.example}
          data_protection: {name: The DPO}
        working_hours:
          start: 8:30
          end: 17:00
          bank_holidays: [2026-12-25, 2026-12-28]
        """,
    )
    settings = load_settings(path)
    assert settings.path == path
    assert settings.org["name"] == "Testshire County Council"
    assert settings.org["short_name"] == DEFAULTS["org"]["short_name"]  # untouched keys keep their default
    assert settings.rules["personal_use_on_council_it"] == "never"
    assert settings.rules["welsh_language_standards"] is False
    assert settings.targets["comms"] == {"name": "Testshire Comms", "email": "comms@testshire.example"}
    assert settings.target_name("data_protection") == "The DPO"
    assert settings.target_name("legal") == "Legal Services"
    # unquoted times and dates stay the text that was written
    assert settings.working_hours["start"] == "8:30"
    assert settings.working_hours["end"] == "17:00"
    assert settings.working_hours["bank_holidays"] == ["2026-12-25", "2026-12-28"]


def test_templates_see_the_org_with_rules_and_contact_names(tmp_path: Path) -> None:
    path = write(tmp_path, "policybot.yaml", "escalation:\n  comms: {name: Testshire Comms}\n")
    org = load_settings(path).template_org()
    assert org["name"] == DEFAULTS["org"]["name"]
    assert org["rules"] == DEFAULTS["rules"]
    assert org["contacts"]["comms"] == "Testshire Comms"
    assert org["contacts"]["line_manager"] == "your line manager"


def test_the_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "elsewhere.yaml", "org:\n  name: From The Environment\n")
    monkeypatch.setenv("POLICYBOT_SETTINGS", str(path))
    assert load_settings(None).org["name"] == "From The Environment"


def test_policybot_yaml_in_the_current_folder_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "policybot.yaml", "org:\n  name: Found Here\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(None).org["name"] == "Found Here"


def test_with_overrides_changes_a_copy() -> None:
    settings = load_settings(None)
    stricter = settings.with_overrides({"rules": {"personal_use_on_council_it": "never"}})
    assert stricter.rules["personal_use_on_council_it"] == "never"
    assert settings.rules["personal_use_on_council_it"] == "breaks_only"
    assert stricter.rules["welsh_language_standards"] is False


BAD = """
    org:
      name: Testshire County Council
      shortname: Testshire
    rules:
      personal_use_on_council_it: sometimes
      welsh_language_standards: "yes"
    escalation:
      comms:
        name: Comms
        emial: comms@example.org
      Legal Team:
        name: x
    working_hours:
      start: 25:00
      timezone: Europe/Londn
      days: [mon, tues]
      bank_holidays: [2026-13-40, 2026-02-30, "2026-12-25"]
    retention_days: 0
"""


def test_every_bad_value_is_reported_at_its_line(tmp_path: Path) -> None:
    assert problems_in(tmp_path, BAD) == [
        (line_of(BAD, "shortname"), "unknown key 'shortname' (did you mean 'short_name'?)"),
        (
            line_of(BAD, "sometimes"),
            "'personal_use_on_council_it' is 'sometimes' but must be one of: never, breaks_only",
        ),
        (
            line_of(BAD, "welsh_language_standards"),
            "'welsh_language_standards' is 'yes' but must be one of: false, true",
        ),
        (line_of(BAD, "emial"), "unknown key 'emial' (did you mean 'email'?)"),
        (
            line_of(BAD, "Legal Team"),
            "the name 'Legal Team' is not allowed here; use lowercase letters, digits and _ only, "
            "starting with a letter",
        ),
        (line_of(BAD, "start: 25:00"), "'start' '25:00' is not in the expected form (a time like 09:00)"),
        (
            line_of(BAD, "Europe/Londn"),
            "'timezone' is 'Europe/Londn', which is not a timezone name; use one like Europe/London "
            "(did you mean 'Europe/London'?)",
        ),
        (
            line_of(BAD, "tues"),
            "this value is 'tues' but must be one of: mon, tue, wed, thu, fri, sat, sun (did you mean 'tue'?)",
        ),
        (line_of(BAD, "2026-13-40"), "'2026-02-30' is not a real date"),
        (line_of(BAD, "2026-13-40"), "'2026-13-40' is not a real date"),
        (line_of(BAD, "retention_days"), "'retention_days' is 0 but must be at least 1"),
    ]


def test_a_working_day_must_end_after_it_starts(tmp_path: Path) -> None:
    text = "working_hours:\n  start: '17:00'\n  end: 9:00\n"
    assert problems_in(tmp_path, text) == [(3, "'end' (9:00) must be later than 'start' (17:00)")]


def test_a_settings_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "- just\n- a list\n") == [
        (1, "the settings file should be a mapping of keys to values")
    ]


def test_a_settings_file_with_a_yaml_error(tmp_path: Path) -> None:
    [(line, message)] = problems_in(tmp_path, "org:\n  name: Testshire\n\tshort_name: T\n")
    assert line == 3
    assert "a tab character is used for indenting" in message


def test_an_empty_settings_file_means_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "policybot.yaml", "# nothing changed yet\n")
    assert load_settings(path).data == load_settings(None).data


def test_a_missing_settings_file_is_a_file_problem(tmp_path: Path) -> None:
    with pytest.raises(FileProblems) as caught:
        load_settings(tmp_path / "absent.yaml")
    assert str(caught.value) == f"{tmp_path / 'absent.yaml'}:1: file not found"


NEW_RULES = """
    rules:
      disclaimer_needed: when_discussing_work
      care_staff_workplace_on_profile: allowed
      name_on_council_accounts: disclose_position
      children_as_contacts: social_workers_teachers_no_children
"""


def test_the_rules_for_disclaimers_workplace_names_and_contacts_can_each_be_chosen(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "policybot.yaml", NEW_RULES))
    assert settings.rules["disclaimer_needed"] == "when_discussing_work"
    assert settings.rules["care_staff_workplace_on_profile"] == "allowed"
    assert settings.rules["name_on_council_accounts"] == "disclose_position"
    assert settings.rules["children_as_contacts"] == "social_workers_teachers_no_children"
    defaults = load_settings(None).rules
    assert (defaults["disclaimer_needed"], defaults["children_as_contacts"]) == (
        "whenever_identifiable",
        "clients_and_families",
    )


def test_a_misspelt_choice_for_a_new_rule_names_the_choices(tmp_path: Path) -> None:
    text = NEW_RULES.replace("when_discussing_work", "when_talking_about_work")
    assert problems_in(tmp_path, text) == [
        (
            line_of(text, "when_talking_about_work"),
            "'disclaimer_needed' is 'when_talking_about_work' but must be one of: "
            "whenever_identifiable, when_discussing_work (did you mean 'when_discussing_work'?)",
        )
    ]
