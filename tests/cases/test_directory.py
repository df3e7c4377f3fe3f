"""The staff directory: finding people, line-manager fallbacks, teams, and file:line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cases.directory import Directory, Person
from bot.cases.worker import Worker
from bot.clock import FakeClock
from bot.conversation.events import Actor
from bot.errors import FileProblems
from bot.language.settings import load_settings
from tests.cases.conftest import DIRECTORY, Inbox, Org, escalate


@pytest.fixture
def directory() -> Directory:
    return Directory.load(DIRECTORY)


def test_find_by_platform_id_then_email(directory: Directory) -> None:
    def who(**actor: str) -> str | None:
        person = directory.find(Actor(**actor))
        return person.id if person else None

    assert who(user_id="slack:T1:U0AMARA01") == "amara"
    assert who(user_id="slack:TOTHER:U0AMARA01") == "amara"
    assert who(user_id="teams:5b1c2d3e-0000-4000-8000-00000000b0b0") == "ben"  # Teams ids compare case-blind
    assert who(user_id="console:cara") == "cara"
    assert who(user_id="teams:29:unknown", email="Cara.Williams@Example.gov.uk") == "cara"
    assert who(user_id="slack:T1:U0NOBODY") is None
    # Dev's Slack id is on file, so another Slack account with Dev's email is not Dev.
    assert who(user_id="slack:T1:U0OTHER01", email="dev.patel@example.gov.uk") is None
    # A platform id and an email naming two different people: nobody.
    assert who(user_id="slack:T1:U0AMARA01", email="dev.patel@example.gov.uk") is None


def test_describe_gives_templates_the_person_and_their_manager(directory: Directory) -> None:
    user = directory.describe(Actor(user_id="slack:T1:U0AMARA01", display_name="amara.o", platform="slack"))
    assert user == {
        "id": "amara",
        "name": "Amara Okafor",
        "first_name": "Amara",
        "email": "amara.okafor@example.gov.uk",
        "manager_name": "Dev Patel",
        "roles": [],
        "platform": "slack",
    }
    lee = directory.describe(Actor(user_id="console:lee"))
    assert lee["roles"] == ["legal"]  # "Legal" in the file is the role legal
    unknown = directory.describe(Actor(user_id="slack:T1:U0X", display_name="Sam Smith", platform="slack"))
    assert (unknown["name"], unknown["first_name"], unknown["manager_name"]) == ("Sam Smith", "Sam", None)


@pytest.mark.parametrize(
    ("person_id", "why"),
    [
        ("nomgr", "Noor Shah has no line manager in the staff directory"),
        ("selfie", "Sid Self is recorded as their own line manager in the staff directory"),
        ("ghost", "Gus Ghost's line manager ('nobody') is not in the staff directory"),
        ("loop1", "the management chain above Lou One goes round in a circle (Lou One → Lou Two → Lou One)"),
    ],
)
def test_no_usable_line_manager_falls_back_to_comms_with_a_note(
    directory: Directory, org: Org, person_id: str, why: str
) -> None:
    settings = load_settings(org.settings)
    person = directory.get(person_id)
    assert person is not None
    [resolution] = directory.resolve(settings, "line_manager", person, person.name)
    assert resolution.recipient.name == "Cara Williams" and resolution.target == "comms"
    assert resolution.note == f"This came to the Communications team instead of a line manager: {why}."


def test_a_loop_higher_up_the_chain_also_falls_back() -> None:
    people = [
        Person("emp", "Em Ployee", manager="boss"),
        Person("boss", "Bo Ss", manager="big"),
        Person("big", "Big Boss", manager="boss"),
    ]
    manager, why = Directory(people).line_manager(people[0])
    assert manager is None and why is not None and "Bo Ss → Big Boss → Bo Ss" in str(why)


def test_someone_not_in_the_directory_escalates_to_comms(directory: Directory, org: Org) -> None:
    settings = load_settings(org.settings)
    [resolution] = directory.resolve(settings, "line_manager", None, "Sam Smith")
    assert resolution.recipient.name == "Cara Williams"
    assert resolution.note is not None and "Sam Smith is not in the staff directory" in resolution.note


def test_teams_resolve_to_their_channel_else_their_members_else_their_name(directory: Directory, org: Org) -> None:
    settings = load_settings(org.settings)
    [legal] = directory.team(settings, "legal")
    assert (legal.recipient.kind, legal.recipient.slack_channel, legal.role) == (
        "channel",
        "#legal-escalations",
        "legal",
    )
    [hr] = directory.team(settings, "hr")
    assert (hr.recipient.kind, hr.recipient.key) == ("person", "hana")
    [safeguarding] = directory.team(settings, "safeguarding")  # no channel, nobody with the role
    assert (safeguarding.recipient.kind, safeguarding.recipient.name) == ("channel", "the safeguarding lead")


def test_an_employee_without_a_manager_escalates_to_comms_end_to_end(org: Org, clock: FakeClock) -> None:
    runtime = org.runtime(clock)
    noor = Actor(user_id="console:nomgr", display_name="Noor", platform="console")
    case_id = escalate(runtime, noor).case_id
    assert case_id is not None and runtime.cases is not None
    case = runtime.cases.get(case_id, noor)
    [recipient] = case.recipients
    assert (recipient.name, recipient.target) == ("Cara Williams", "comms")
    assert ("fallback", recipient.note) in [(e.action, e.detail) for e in case.events]
    inbox = Inbox()
    Worker(runtime, inbox).run_once()
    [sent] = inbox.to("Cara Williams")
    assert ("Why you", recipient.note) in sent.facts


def _problems(path: Path) -> list[str]:
    with pytest.raises(FileProblems) as caught:
        Directory.load(path)
    return [str(p) for p in caught.value.problems]


def test_a_malformed_yaml_directory_gives_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(
        "people:\n"
        "  - id: amara\n"
        "    name: Amara Okafor\n"
        "    emial: amara@example.gov.uk\n"
        "  - id: ben\n"
        "    email: not-an-address\n"
        "  - id: amara\n"
        "    name: Another Amara\n"
        "  - id: has space\n"
        "    name: Spacey\n",
        encoding="utf-8",
    )
    assert _problems(path) == [
        f"{path}:4: unknown key 'emial' (did you mean 'email'?)",
        f"{path}:5: 'name' is missing here",
        f"{path}:6: 'email' 'not-an-address' is not in the expected form (an address like name@council.gov.uk)",
        f"{path}:9: the id 'has space' may only use letters, digits, '.', '_', '-' or '@'",
    ]
    path.write_text("people:\n  - {id: a, name: A, slack_id: U1}\n  - {id: b, name: B, slack_id: u1}\n", "utf-8")
    assert _problems(path) == [f"{path}:3: the slack_id 'U1' is already used by A on line 2"]
    path.write_text("people:\n  - id: a\n    name: [unclosed\n", "utf-8")
    [syntax] = _problems(path)
    assert syntax.startswith(f"{path}:") and "YAML syntax error" in syntax


def test_a_malformed_csv_directory_gives_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(
        "id,name,email,manger\n",
        encoding="utf-8",
    )
    assert _problems(path) == [f"{path}:1: unknown column 'manger' (did you mean 'manager'?)"]
    path.write_text(
        "id,name,email,slack_id,manager,roles\n"
        "amara,Amara Okafor,amara@example.gov.uk,U1,dev,Social worker\n"
        "dev,Dev Patel,dev@example.gov.uk,U2,,comms;Legal\n"
        ",Nameless,x@example.gov.uk,,,\n"
        "ben,Ben Hughes,not-an-email,,dev,\n"
        "too,few\n"
        "\n"
        "carl,Carl,AMARA@example.gov.uk,,,\n",
        encoding="utf-8",
    )
    assert _problems(path) == [
        f"{path}:4: the id is empty",
        f"{path}:5: 'not-an-email' is not an email address like name@council.gov.uk",
        f"{path}:6: this row has 2 values but the header has 6 columns",
    ]
    path.write_text(
        "id,name,email,slack_id,manager,roles\n"
        "amara,Amara Okafor,amara@example.gov.uk,U1,dev,Social worker\n"
        "dev,Dev Patel,dev@example.gov.uk,U2,,comms;Legal\n"
        "\n"
        "carl,Carl,AMARA@example.gov.uk,,,\n",
        encoding="utf-8",
    )
    assert _problems(path) == [f"{path}:5: the email 'amara@example.gov.uk' is already used by Amara Okafor on line 2"]


def test_a_good_csv_directory_loads(tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(
        "\ufeffid,name,email,slack_id,manager,roles\n"
        "amara,Amara Okafor,Amara@Example.gov.uk,U1,dev,Social worker\n"
        'dev,"Patel, Dev",dev@example.gov.uk,U2,,comms;Legal\n',
        encoding="utf-8",
    )
    directory = Directory.load(path)
    amara, dev = directory.get("amara"), directory.get("dev")
    assert amara is not None and dev is not None
    assert (amara.email, amara.roles, amara.manager, amara.line) == (
        "amara@example.gov.uk",
        ("social_worker",),
        "dev",
        2,
    )
    assert (dev.name, dev.roles, dev.manager) == ("Patel, Dev", ("comms", "legal"), None)
    assert directory.line_manager(amara) == (dev, None)


def test_directory_check_command(org: Org, tmp_path: Path) -> None:
    good = org.cli("directory", "check")
    assert good.exit_code == 0
    assert f"{DIRECTORY}:" in good.stdout and "Noor Shah has no line manager" in good.stdout
    assert "12 people, 6 warning(s)." in good.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("people:\n  - id: x\n", "utf-8")
    result = org.cli("directory", "check", str(bad))
    assert result.exit_code == 1 and result.stdout == f"{bad}:2: 'name' is missing here\n"


def test_a_broken_directory_stops_the_bot_with_file_line_errors(org: Org, tmp_path: Path) -> None:
    bad = tmp_path / "staff.yaml"
    bad.write_text("people:\n  - {id: a, name: A, roles: admin}\n", "utf-8")
    org.settings.write_text(org.settings.read_text("utf-8").replace(str(DIRECTORY), str(bad)), "utf-8")
    policybot = Path(sys.executable).with_name("policybot")
    result = subprocess.run(
        [str(policybot), "--settings", str(org.settings), "--database", org.database_url, "cases"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"{bad}:2: 'roles' should be a list, not text"


def test_the_note_for_comms_is_in_the_language_the_case_reaches_them_in() -> None:
    """Cara reads Welsh (her directory entry): why a case came to her instead of a line manager
    is kept in Welsh with her, the team's name too; the employee's name as written."""
    people = [
        Person("noor", "Noor Shah"),
        Person("cara", "Cara Williams", roles=("comms",), language="cy"),
    ]
    settings = load_settings(None).with_overrides({"languages": ["en", "cy"]})
    [resolution] = Directory(people).resolve(settings, "line_manager", people[0], "Noor Shah")
    assert resolution.recipient.name == "Cara Williams"
    assert resolution.note == (
        "Daeth hwn at y tîm Cyfathrebu yn lle rheolwr llinell: "
        "nid oes gan Noor Shah reolwr llinell yng nghyfeiriadur y staff."
    )
