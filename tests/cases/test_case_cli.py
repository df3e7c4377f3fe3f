"""The lifecycle from the terminal: a real ``policybot chat`` process opens the case, then the
worker and cases commands (in-process through click) deliver it and act on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.cases.model import UnknownCase
from bot.errors import NotAllowed
from tests.cases.conftest import Org

POLICYBOT = Path(sys.executable).with_name("policybot")


def test_chat_escalation_is_printed_at_once_and_acted_on_with_cases(org: Org) -> None:
    base = [str(POLICYBOT), "--settings", str(org.settings), "--flows", str(org.flows), "--database", org.database_url]
    chat = subprocess.run(
        [*base, "chat", "--user", "amara"],
        input="case test threat\n1\nquit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "This has been sent to" in chat.stdout

    [case] = json.loads(org.cli("cases", "--json").stdout)
    assert (case["state"], case["flow"], case["employee"]["name"]) == ("open", "threat", "Amara Okafor")
    assert [r["name"] for r in case["recipients"]] == ["Dev Patel"]
    short = case["id"][:8]

    # The chat ran one worker pass straight after the escalation, so it printed the notification
    # itself, and a worker run afterwards finds nothing left to deliver.
    assert "policybot would send (case_opened" in chat.stdout
    assert "To: Dev Patel (Slack U0DEVPAT01, dev.patel@example.gov.uk)" in chat.stdout
    assert "URGENT: Amara Okafor needs you: A legal threat (case test flow)" in chat.stdout
    worker = org.cli("worker", "--once")
    assert worker.exit_code == 0 and "policybot would send" not in worker.stdout  # delivered once

    refused = org.cli("cases", "ack", short, "--as", "ben")
    assert isinstance(refused.exception, NotAllowed) and "not sent to you" in str(refused.exception)
    own = org.cli("cases", "ack", short, "--as", "amara")
    assert isinstance(own.exception, NotAllowed) and "raised this case" in str(own.exception)
    ack = org.cli("cases", "ack", short, "--as", "dev")
    assert ack.exit_code == 0 and "Amara Okafor has been told" in ack.stdout
    assert "Dev Patel already picked this case up" in org.cli("cases", "ack", short, "--as", "cara").stdout
    message = org.cli("cases", "message", short, "Call me when you can", "--as", "dev")
    assert message.stdout.strip() == "Sent to Amara Okafor."
    assert org.cli("cases", "resolve", short, "--as", "dev", "--note", "Post removed").exit_code == 0

    progress = org.cli("worker", "--once")
    assert progress.stdout.count("To: Amara Okafor") == 3
    assert "Dev Patel has picked up your case" in progress.stdout
    assert "Call me when you can" in progress.stdout and "They wrote: Post removed" in progress.stdout

    shown = org.cli("cases", "show", short).stdout
    assert "[RESOLVED]  URGENT" in shown and "Resolution: Post removed" in shown
    for line in ("opened           Amara Okafor", "acknowledged     Dev Patel", "resolved         Dev Patel"):
        assert line in shown
    assert "case_opened      to Dev Patel: delivered, 1 attempt(s)" in shown

    assert org.cli("cases", "--state", "open").stdout.strip() == "No cases match."
    resolved = org.cli("cases", "list", "--state", "resolved", "--target", "line_manager", "--json")
    assert [c["id"] for c in json.loads(resolved.stdout)] == [case["id"]]
    assert json.loads(org.cli("cases", "--target", "legal", "--json").stdout) == []
    missing = org.cli("cases", "show", "ffffffff")
    assert isinstance(missing.exception, UnknownCase) and "there is no case ffffffff" in str(missing.exception)


def test_worker_notifier_must_exist(org: Org) -> None:
    result = org.cli("worker", "--once", "--notifier", "pigeon")
    assert "there is no notifier called 'pigeon'; choose one of: console" in str(result.exception)
