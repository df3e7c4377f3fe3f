"""A translator's PO files become a change to the flow library, reviewed and published like any
other (``policybot i18n import --submit-as``): nothing reaches people before a reviewer approves."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.conversation.events import Actor, Start
from bot.conversation.replies import Question
from tests.publishing.conftest import SETTINGS, Org

CORRECTED = "Ymhle y gwnaed y post? (cywiriad gan y gwasanaeth cyfieithu)"
WELSH_READER = Actor(user_id="console:cy-reader", display_name="Ceri", platform="console", locale="cy")


def run(org: Org, sqlite_url: str, *args: str) -> Result:
    base = ["--settings", str(org.settings), "--flows", str(org.flows), "--database", sqlite_url]
    return CliRunner().invoke(cli, [*base, *args])


def first_question(org: Org, sqlite_url: str) -> str:
    runtime = org.runtime(sqlite_url)
    try:
        [question] = [
            r for r in runtime.engine.handle(WELSH_READER, Start(flow_id="legal-threat")) if isinstance(r, Question)
        ]
        return question.text
    finally:
        runtime.close()


def corrected_po(folder: Path) -> None:
    """The translation service corrects the Welsh of legal-threat's first question."""
    path = folder / "legal-threat.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    [message] = [m for m in catalog if m.context == "states.where.ask"]
    assert message.string and message.string != CORRECTED
    message.string = CORRECTED
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_a_translation_is_submitted_reviewed_and_only_then_served(org: Org, sqlite_url: str) -> None:
    org.settings.write_text(SETTINGS + "languages: [en, cy]\n", encoding="utf-8")
    assert first_question(org, sqlite_url) == "Ble cafodd y post ei wneud?"  # the library is stored, v1
    po = org.folder / "po"
    assert run(org, sqlite_url, "i18n", "export", "--lang", "cy", str(po)).exit_code == 0
    corrected_po(po)
    flow_file = (org.flows / "legal-threat.yaml").read_text(encoding="utf-8")

    submitted = run(org, sqlite_url, "i18n", "import", str(po), "--submit-as", "asha", "--note", "Welsh corrections")
    assert submitted.exit_code == 0, submitted.output
    change = submitted.stdout.splitlines()[0]
    assert len(change) == 32 and "Submitted for review: legal-threat" in submitted.stdout
    assert (org.flows / "legal-threat.yaml").read_text(encoding="utf-8") == flow_file  # the folder is untouched
    assert first_question(org, sqlite_url) == "Ble cafodd y post ei wneud?"  # not served before review
    diff = run(org, sqlite_url, "library", "diff", change[:8])
    assert diff.exit_code == 0 and CORRECTED in diff.output

    # legal-threat escalates to Legal: two approvals (authoring.two_approvals_for), as for any change to it
    first = run(org, sqlite_url, "library", "approve", change[:8], "--as", "lee")
    assert first.exit_code == 0 and "1 more approval" in first.output, first.output
    assert first_question(org, sqlite_url) == "Ble cafodd y post ei wneud?"
    second = run(org, sqlite_url, "library", "approve", change[:8], "--as", "sam")
    assert second.exit_code == 0 and "Published as library version 2" in second.output, second.output
    assert first_question(org, sqlite_url) == CORRECTED

    again = run(org, sqlite_url, "i18n", "import", str(po), "--submit-as", "asha")
    assert again.exit_code == 0 and "Nothing to submit" in again.output
