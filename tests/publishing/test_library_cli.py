"""``policybot library``: the commands a comms officer types, end to end on a real SQLite file."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from bot.cli.main import cli
from tests.publishing.conftest import NEW_ADVICE, WIKI_ANSWERS, Org


def run(org: Org, sqlite_url: str, *args: str) -> Result:
    base = ["--settings", str(org.settings), "--flows", str(org.flows), "--database", sqlite_url]
    return CliRunner().invoke(cli, [*base, *args])


def test_submit_diff_approve_history_and_the_chat_serves_the_change(org: Org, sqlite_url: str) -> None:
    submitted = run(org, sqlite_url, "library", "submit", str(org.edited_wiki()), "--as", "asha", "--note", "clearer")
    assert submitted.exit_code == 0, submitted.output
    change = submitted.stdout.splitlines()[0]
    assert len(change) == 32

    diff = run(org, sqlite_url, "library", "diff", change[:8])
    assert diff.exit_code == 0 and "outcome 'wikipedia_care': advice" in diff.output and NEW_ADVICE in diff.output

    refused = run(org, sqlite_url, "library", "approve", change[:8], "--as", "asha")
    assert refused.exit_code != 0 and "someone else has to review" in str(refused.exception or refused.output)

    approved = run(org, sqlite_url, "library", "approve", change[:8], "--as", "lee")
    assert approved.exit_code == 0 and "Published as library version 2" in approved.output

    history = run(org, sqlite_url, "library", "history", "wiki-edit", "--json")
    [entry] = json.loads(history.output)
    assert entry["author"] == "asha" and entry["note"] == "clearer" and entry["published_version"] == 2
    assert [r["reviewer"] for r in entry["reviews"]] == ["lee"]

    chat = CliRunner().invoke(
        cli,
        ["--settings", str(org.settings), "--flows", str(org.flows), "--database", sqlite_url, "chat", "--user", "kim"],
        input="wiki edit\n" + "\n".join(WIKI_ANSWERS) + "\nquit\n",
    )
    assert NEW_ADVICE in " ".join(chat.output.split()), chat.output


def test_a_refused_submit_prints_file_line_problems_and_exits_1(org: Org, sqlite_url: str) -> None:
    edited = org.edited_wiki()
    edited.write_text(edited.read_text(encoding="utf-8").replace("next: wikipedia_care", "next: nowhere", 1))
    result = run(org, sqlite_url, "library", "submit", str(edited), "--as", "asha")
    assert result.exit_code == 1
    assert any(line.startswith(f"{edited}:") and "nowhere" in line for line in result.stdout.splitlines()), (
        result.output
    )
    assert "Not submitted" in result.stderr


def test_chat_preview_marks_the_conversation_and_is_for_the_author_and_reviewers(org: Org, sqlite_url: str) -> None:
    submitted = run(org, sqlite_url, "library", "submit", str(org.edited_wiki()), "--as", "asha")
    change = submitted.stdout.splitlines()[0]
    base = ["--settings", str(org.settings), "--flows", str(org.flows), "--database", sqlite_url, "chat"]
    answers = "wiki edit\n" + "\n".join(WIKI_ANSWERS) + "\nquit\n"
    preview = CliRunner().invoke(cli, [*base, "--user", "lee", "--preview", change[:8]], input=answers)
    shown = " ".join(preview.output.split())  # the terminal wraps lines
    assert f"[PREVIEW of change {change[:8]}" in shown and NEW_ADVICE in shown, preview.output
    assert shown.count("[PREVIEW of change") >= 5  # the banner, the router's line, three questions, the outcome
    refused = CliRunner().invoke(cli, [*base, "--user", "kim", "--preview", change[:8]], input="quit\n")
    assert refused.exit_code != 0 and "author and the reviewers" in str(refused.exception)


def test_rollback_and_export(org: Org, sqlite_url: str, tmp_path: object) -> None:
    change = run(org, sqlite_url, "library", "submit", str(org.edited_wiki()), "--as", "asha").stdout.splitlines()[0]
    run(org, sqlite_url, "library", "approve", change, "--as", "lee")
    rolled = run(org, sqlite_url, "library", "rollback", "wiki-edit", "--to", "1", "--as", "sam")
    assert rolled.exit_code == 0 and "published as library version 3" in rolled.output
    out = org.folder / "exported"
    exported = run(org, sqlite_url, "library", "export", str(out))
    assert exported.exit_code == 0
    assert (out / "flows" / "wiki-edit.yaml").read_text(encoding="utf-8") == (org.flows / "wiki-edit.yaml").read_text(
        encoding="utf-8"
    )
