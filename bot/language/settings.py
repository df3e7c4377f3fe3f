"""Organisation settings: who the council is, where escalations go, and which rule applies
where the four source policies differ.

Everything has a default so ``policybot chat`` runs with no settings file. A council copies
flows/policybot.example.yaml to policybot.yaml and changes what it needs; docs/settings.md
explains every key.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import FileProblems, Problem
from bot.language.i18n.catalog import N_, interface
from bot.language.i18n.languages import ENGLISH, LANGUAGE_CODE, offered_order
from bot.language.schema_check import did_you_mean, schema_problems
from bot.language.yamlload import LineDict, LineList, load_yaml_file

# Where the councils' policies differ, the organisation chooses. Each rule names its options and
# the default, and docs/settings.md says which policy paragraph each option comes from.
RULE_CHOICES: dict[str, tuple[Any, ...]] = {
    # Unnamed council, Appendix B: no personal social media on council IT at all.
    # Nottinghamshire paragraph 18: personal use allowed in break periods.
    "personal_use_on_council_it": ("never", "breaks_only"),
    # Denbighshire: the Welsh Language Standards apply to its accounts. Councils outside Wales: false.
    "welsh_language_standards": (False, True),
    # Joining an online discussion as an employee (flow speak-for-council).
    # Nottinghamshire 22 and 37-42, Devon 2.1: any employee may contribute, saying who they are
    # ("encouraged"). Appendix B, 'Use of Social Media at work' bullet 1: only people their
    # Strategic/Service Lead has authorised comment for the council ("authorised_only").
    "speaking_as_employee": ("encouraged", "authorised_only"),
    # Who approves a new council account or page (flow new-account).
    # Nottinghamshire 44, 50, 51 and 71: the Digital Team must approve every account, through a
    # request form and a business case ("digital_team"). Devon 2.2 'Get official backing': the line
    # manager's full approval, ideally telling Corporate Communications ("line_manager").
    "new_account_approval": ("digital_team", "line_manager"),
    # When a personal profile or post needs a disclaimer (flows can-i-post, onboarding, join-group).
    # Appendix B 'Personal use', you should, bullet 1, and Nottinghamshire 70: whenever the profile
    # or content identifies you as an employee ("whenever_identifiable"). Devon 1 bullet 5 and
    # Denbighshire 3 and 5 bullet 2: when you talk about your work or council services
    # ("when_discussing_work").
    "disclaimer_needed": ("whenever_identifiable", "when_discussing_work"),
    # Staff who work with children or vulnerable adults: say where you work on a personal profile?
    # Nottinghamshire 35 bullet 4: avoid putting where you work on your page ("avoid").
    # Denbighshire 3: employees are allowed to say that they work for the council ("allowed").
    "care_staff_workplace_on_profile": ("avoid", "allowed"),
    # Your own name on a council account you run. Nottinghamshire 47 bullet 12: how much personal
    # information, such as your real name, is up to you ("up_to_you"). Devon 2.2 bullet 3: always
    # disclose your position as a representative of the council, department or team
    # ("disclose_position").
    "name_on_council_accounts": ("up_to_you", "disclose_position"),
    # Who staff may not have as friends or contacts (flows friend-request, join-group, onboarding).
    # Nottinghamshire 29: staff working with children and vulnerable adults do not friend clients,
    # children or adults, or their families ("clients_and_families"). Denbighshire 5: social
    # workers and teachers have no children or young people at all among their friends or contacts
    # ("social_workers_teachers_no_children").
    "children_as_contacts": ("clients_and_families", "social_workers_teachers_no_children"),
}

DEFAULTS: dict[str, Any] = {
    "org": {
        "name": N_("Example Council"),
        "short_name": N_("the council"),
        "digital_team": N_("the digital communications team"),
        "intranet_policy_url": "",
        # The wording Appendix B (002) suggests; Devon (000, section 1) suggests a similar sentence.
        "disclaimer": N_("The views I express here are mine alone and do not reflect the views of my employer."),
        # How to start a request for a new council account (flow new-account): an email address, a
        # form's web address or a short sentence. Nottinghamshire 50: "email econtent@nottscc.gov.uk".
        # Empty: the bot tells people to ask the digital team for the request form.
        "new_account_request": "",
    },
    "rules": {
        "personal_use_on_council_it": "breaks_only",
        "welsh_language_standards": False,
        "speaking_as_employee": "encouraged",
        "new_account_approval": "digital_team",
        "disclaimer_needed": "whenever_identifiable",
        "care_staff_workplace_on_profile": "avoid",
        "name_on_council_accounts": "up_to_you",
        "children_as_contacts": "clients_and_families",
    },
    "escalation": {
        "line_manager": {"name": N_("your line manager")},
        "comms": {"name": N_("the Communications team")},
        "legal": {"name": N_("Legal Services")},
        "hr": {"name": N_("HR")},
        "safeguarding": {"name": N_("the safeguarding lead")},
    },
    "working_hours": {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
        "timezone": "Europe/London",
        "bank_holidays": [],
    },
    "directory": None,
    "database_url": None,
    # The languages the bot speaks (docs/languages.md): English always, Welsh with ``cy``. The
    # default is for a person whose platform says no language the bot speaks.
    "languages": ["en"],
    "default_language": "en",
    # Per language, the org's own words and team names in that language (a default name needs
    # none: its translation is in the interface catalogue).
    "translations": {},
    "retention_days": 90,
    # Case delivery and chasing (bot/cases/outbox.py, bot/cases/): see docs/escalations.md.
    "cases": {
        "delivery_attempts": 8,  # tries per notification before it is reported to the comms team
        "retry_base_seconds": 30,  # first retry after about this long, doubling each time (with jitter)
        "retry_max_seconds": 3600,
        "delivery_timeout_seconds": 20,  # a platform call taking longer counts as failed and is retried
        "worker_interval_seconds": 5,  # how often `policybot worker` looks for due timers and notifications
        "chase_rounds": 3,  # how many times an unacknowledged case is re-escalated or reminded
    },
    # Who changes the flow library and who reviews (bot/publishing, docs/flows.md "How to make a
    # change"): directory ids. No authors listed: anyone may submit; no reviewers: nothing can be
    # published until some are named.
    "authoring": {
        "authors": [],
        "reviewers": [],
        "two_approvals_for": [],  # escalation targets (legal, safeguarding...) whose flows need two approvals
        "reload_seconds": 1,  # how often each replica looks for a newly published library version
    },
}

_CONTACT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "email": {"type": "string"},
        "role": {"type": "string", "minLength": 1},  # directory role whose members act for this team
        "slack_channel": {"type": "string"},
        "teams_channel": {"type": "string"},
    },
}

_CLOCK = "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"  # 9:00 and 09:00; not 25:00

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "org": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: {"type": "string"} for k in DEFAULTS["org"]},
        },
        "rules": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: {"enum": list(choices)} for name, choices in RULE_CHOICES.items()},
        },
        "escalation": {
            "type": "object",
            "additionalProperties": _CONTACT,
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
        },
        "working_hours": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "days": {"type": "array", "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
                "start": {"type": "string", "pattern": _CLOCK, "description": "a time like 09:00"},
                "end": {"type": "string", "pattern": _CLOCK, "description": "a time like 17:30"},
                "timezone": {"type": "string"},
                "bank_holidays": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$", "description": "YYYY-MM-DD"},
                },
            },
        },
        "directory": {"type": ["string", "null"]},
        "database_url": {"type": ["string", "null"]},
        "languages": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {
                "type": "string",
                "pattern": LANGUAGE_CODE.pattern,
                "description": "a language code like en or cy",
            },
        },
        "default_language": {"type": "string", "pattern": LANGUAGE_CODE.pattern},
        "translations": {
            "type": "object",
            "propertyNames": {"pattern": LANGUAGE_CODE.pattern},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "org": {"type": "object", "additionalProperties": {"type": "string"}},
                    "escalation": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
        "retention_days": {"type": "integer", "minimum": 1},
        # The web studio (adapters/studio, docs/studio.md): who else is in the comms team.
        "studio": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "comms": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "description": "staff directory ids or email addresses",
                },
            },
        },
        "cases": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "delivery_attempts": {"type": "integer", "minimum": 1},
                "retry_base_seconds": {"type": "number", "exclusiveMinimum": 0},
                "retry_max_seconds": {"type": "number", "exclusiveMinimum": 0},
                "delivery_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                "worker_interval_seconds": {"type": "number", "exclusiveMinimum": 0},
                "chase_rounds": {"type": "integer", "minimum": 0},
            },
        },
        "authoring": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "authors": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "reviewers": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "two_approvals_for": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "description": "escalation targets such as legal or safeguarding",
                },
                "reload_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 5},
            },
        },
    },
}


@dataclass(frozen=True)
class Settings:
    """The merged settings (defaults overlaid with the file). ``data`` is plain dicts and lists."""

    data: dict[str, Any]
    path: Path | None = None
    # template_org per language, built once: every turn's templates ask for it (docs/benchmarks.md)
    _orgs: dict[str | None, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def org(self) -> dict[str, Any]:
        return dict(self.data["org"])

    @property
    def rules(self) -> dict[str, Any]:
        return dict(self.data["rules"])

    @property
    def targets(self) -> dict[str, dict[str, Any]]:
        """Escalation target name -> contact (name, email, slack_channel, teams_channel)."""
        return {k: dict(v) for k, v in self.data["escalation"].items()}

    def target_name(self, target: str, language: str | None = None) -> str:
        """A target's name, in ``language`` when the settings or the catalogue have it."""
        # Read in place: ``targets`` copies every contact, and template_org asks for each name.
        name = str(self.data["escalation"].get(target, {}).get("name", target.replace("_", " ")))
        if not language or language == ENGLISH:
            return name
        own = self.data.get("translations", {}).get(language, {}).get("escalation", {}).get(target)
        return str(own) if own else interface(language)(name)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages offered, in the order they are offered (Welsh first when it is on)."""
        return offered_order(tuple(self.data.get("languages") or [ENGLISH]))

    @property
    def default_language(self) -> str:
        return str(self.data.get("default_language") or ENGLISH)

    def language_for(self, language: str | None) -> str:
        """Someone's own language when it is offered here, else the default (a team's channel, a
        person with none on file, or one in a language the settings do not offer)."""
        return language if language in self.languages else self.default_language

    @property
    def cases(self) -> dict[str, Any]:
        """Case delivery and chasing settings (attempts, backoff, timeout, worker interval, chase rounds)."""
        return dict(self.data["cases"])

    @property
    def authoring(self) -> dict[str, Any]:
        """Who may submit and review changes to the flow library, and the two-approval targets."""
        return dict(self.data["authoring"])

    @property
    def working_hours(self) -> dict[str, Any]:
        return dict(self.data["working_hours"])

    @property
    def retention_days(self) -> int:
        return int(self.data["retention_days"])

    @property
    def directory_path(self) -> Path | None:
        raw = self.data.get("directory")
        if not raw:
            return None
        path = Path(raw)
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    @property
    def database_url(self) -> str | None:
        return self.data.get("database_url")

    def template_org(self, language: str | None = None) -> dict[str, Any]:
        """What flow templates see as ``org``: the org block plus ``rules`` and target names,
        in ``language`` where the settings or the interface catalogue translate them.

        Built once per language (the settings never change once loaded); each caller gets its
        own copy of the top level, so adding a key cannot reach another caller."""
        built = self._orgs.get(language)
        if built is None:
            built = self._orgs[language] = self._build_org(language)
        return dict(built)

    def _build_org(self, language: str | None) -> dict[str, Any]:
        org = self.org
        if language and language != ENGLISH:
            own = self.data.get("translations", {}).get(language, {}).get("org", {})
            _ = interface(language)
            org = {
                key: own.get(key) or (_(value) if isinstance(value, str) and value else value)
                for key, value in org.items()
            }
        org["rules"] = self.rules
        org["contacts"] = {target: self.target_name(target, language) for target in self.data["escalation"]}
        return org

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """A copy with some values replaced (scenario tests try each rule choice this way)."""
        return Settings(_merge(self.data, overrides), self.path)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from ``path``, else $POLICYBOT_SETTINGS, else ./policybot.yaml, else defaults."""
    if path is None:
        env = os.environ.get("POLICYBOT_SETTINGS")
        if env:
            path = Path(env)
        elif Path("policybot.yaml").is_file():
            path = Path("policybot.yaml")
    if path is None:
        return Settings(copy.deepcopy(DEFAULTS))
    raw = load_yaml_file(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FileProblems([Problem(str(path), 1, "the settings file should be a mapping of keys to values")])
    problems = (
        schema_problems(raw, SETTINGS_SCHEMA, str(path))
        + _working_hours_problems(raw, str(path))
        + _language_problems(raw, str(path))
    )
    if problems:
        raise FileProblems(problems)
    return Settings(_merge(DEFAULTS, _plain(raw)), path)


def _working_hours_problems(raw: dict[str, Any], file: str) -> list[Problem]:
    """What the schema cannot say: a real timezone, real dates, and a day that ends after it starts.

    Found here, these are ``file:line`` problems when the settings load, rather than an error
    without a line when the first escalation deadline is worked out.
    """
    block = raw.get("working_hours")
    if not isinstance(block, LineDict):
        return []
    problems = []
    zone = block.get("timezone")
    if isinstance(zone, str):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(zone, sorted(available_timezones()))
            message = f"'timezone' is '{zone}', which is not a timezone name; use one like Europe/London{hint}"
            problems.append(Problem(file, block.line_of("timezone"), message))
    holidays = block.get("bank_holidays")
    if isinstance(holidays, LineList):
        for index, day in enumerate(holidays):
            if not (isinstance(day, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)):
                continue  # the schema has reported it
            try:
                date.fromisoformat(day)
            except ValueError:
                problems.append(Problem(file, holidays.line_of(index), f"'{day}' is not a real date"))
    start = block.get("start", DEFAULTS["working_hours"]["start"])
    end = block.get("end", DEFAULTS["working_hours"]["end"])
    clocks = all(isinstance(t, str) and re.fullmatch(_CLOCK, t) for t in (start, end))
    if clocks and _minutes(end) <= _minutes(start):
        line = block.line_of("end") if "end" in block else block.line_of("start")
        problems.append(Problem(file, line, f"'end' ({end}) must be later than 'start' ({start})"))
    return problems


def _language_problems(raw: dict[str, Any], file: str) -> list[Problem]:
    """English must be offered (every flow is written in it) and the default must be offered."""
    if not isinstance(raw, LineDict):
        return []
    languages = raw.get("languages")
    offered = languages if isinstance(languages, list) else [ENGLISH]
    problems = []
    if isinstance(languages, LineList) and ENGLISH not in languages:
        problems.append(
            Problem(file, raw.line_of("languages"), "'languages' must include en: every flow is written in English")
        )
    default = raw.get("default_language")
    if isinstance(default, str) and default not in offered:
        message = f"'default_language' is '{default}', which is not in 'languages' ({', '.join(map(str, offered))})"
        problems.append(Problem(file, raw.line_of("default_language"), message))
    return problems


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
