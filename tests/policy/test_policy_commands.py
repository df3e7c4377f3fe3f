"""``policybot policy``: importing, re-importing with one paragraph edited, and checking citations.

The proof of issue 17, item 1: a council edits paragraph 27 of its policy, re-imports it, and is
told which clause changed and which outcomes cite it; ``policy check`` then fails naming the
citation and those outcomes until the citation is brought back in line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import policy_commands
from bot.cli.lazy import import_object
from bot.cli.main import BUILT_IN_COMMANDS, cli
from bot.errors import PolicybotError
from tests.core.test_cli_start import NOT_FOR_FLOW_COMMANDS, loaded_from, run_and_list_modules
from tests.shared_inputs import policy_texts

NOTTS = "004_a91ab104a3887eec.txt"
PARAGRAPH_27 = "remove the posting immediately and notify your line manager"


def policybot(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--database", database_url, "policy", *args])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the four sample policies, to edit."""
    copy = tmp_path / "policy"
    shutil.copytree(policy_texts(), copy)
    return copy


def test_first_use_checks_the_files_when_nothing_is_imported(database_url: str, folder: Path) -> None:
    result = policybot(database_url, "check", "--folder", str(folder))
    assert result.exit_code == 0, result.output
    assert "citations quote their policy word for word" in result.output
    assert f"notts (file {folder / NOTTS})" in result.output


def test_reimporting_a_policy_with_one_paragraph_edited_lists_the_outcomes_that_cite_it(
    database_url: str, folder: Path
) -> None:
    shipped = policybot(database_url, "import-shipped", "--folder", str(folder))
    assert shipped.exit_code == 0, shipped.output
    assert shipped.output.count("as version 1") == 4

    text = (folder / NOTTS).read_text(encoding="utf-8")
    assert text.count(PARAGRAPH_27) == 1
    edited = folder / "notts-2027.txt"
    edited.write_text(text.replace(PARAGRAPH_27, "take the posting down within the hour and tell your line manager"))
    result = policybot(database_url, "import", str(edited), "--id", "notts")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Policy 'notts' is now version 2 (was 1): 1 changed, 0 new, 0 removed clause(s)."
    assert lines[1].startswith("  changed  paragraph 27: If you are threatened with legal action")
    cited = lines[2]
    assert cited.strip().startswith("cited as notts-27 by ")
    assert "legal-threat / act_official" in cited and "negative-comment / legal_threat" in cited
    assert "friend-request" not in result.output  # paragraph 29 did not change
    assert "the quote of citation notts-27 is no longer in the policy" in result.output

    check = policybot(database_url, "check", "--folder", str(folder))
    assert check.exit_code == 1, check.output
    assert "notts-27: its quote is not in imported policy 'notts', version 2" in check.output
    assert "legal-threat / act_personal" in check.output
    assert "1 citation(s) do not match their policy" in check.output

    back = policybot(database_url, "import", str(folder / NOTTS), "--id", "notts")
    assert "now version 3 (was 2): 1 changed" in back.output
    assert policybot(database_url, "check", "--folder", str(folder)).exit_code == 0


def test_importing_the_same_text_again_changes_nothing(database_url: str, folder: Path) -> None:
    assert policybot(database_url, "import", str(folder / NOTTS), "--id", "notts").exit_code == 0
    again = policybot(database_url, "import", str(folder / NOTTS), "--id", "notts")
    assert again.output == "Policy 'notts' is unchanged: version 1 (186 clauses).\n"


def test_a_policy_neither_imported_nor_in_the_folder_fails_the_check(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = policybot(database_url, "check", "--folder", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "policy 'notts' has not been imported and" in result.output
    assert "import it with `policybot policy import FILE --id notts`" in result.output


def test_list_and_show(database_url: str, folder: Path) -> None:
    assert "No policy has been imported yet" in policybot(database_url, "list").output
    assert policybot(database_url, "import", str(folder / NOTTS), "--id", "notts", "--title", "Notts").exit_code == 0
    listed = json.loads(policybot(database_url, "list", "--json").output)
    assert [(p["id"], p["version"], p["title"], p["filename"]) for p in listed] == [("notts", 1, "Notts", NOTTS)]
    shown = json.loads(policybot(database_url, "show", "notts", "--json").output)
    by_label = {c["label"]: c for c in shown["clauses"]}
    assert by_label["paragraph 27"]["kind"] == "paragraph"
    assert PARAGRAPH_27 in by_label["paragraph 27"]["text"]
    assert len(shown["clauses"]) == listed[0]["clauses"]
    text = policybot(database_url, "show", "notts").output
    assert "[paragraph 27]\n  If you are threatened with legal action" in text
    missing = policybot(database_url, "show", "ours")
    assert isinstance(missing.exception, PolicybotError)
    assert "there is no policy 'ours' in the database; imported: notts" in str(missing.exception)
    old = policybot(database_url, "show", "notts", "--version", "2")
    assert "there is no version 2 of policy 'notts'" in str(old.exception)


def test_a_councils_own_policy_in_word_under_a_new_id(database_url: str, tmp_path: Path) -> None:
    from tests.policy.documents import write_docx

    path = write_docx(tmp_path / "our-policy.docx", ["# Our social media policy", "1. Be kind online, always."])
    result = policybot(database_url, "import", str(path), "--id", "ours")
    assert result.exit_code == 0, result.output
    assert "Imported policy 'ours' (Our social media policy) as version 1: 2 clauses." in result.output
    assert "No citation names policy 'ours' yet" in result.output


def test_the_policy_command_is_lazy_and_listed() -> None:
    assert BUILT_IN_COMMANDS["policy"] == "bot.cli.policy_commands:policy_group"
    assert import_object(BUILT_IN_COMMANDS["policy"]) in policy_commands.COMMANDS


def test_policy_help_loads_no_database_code(tmp_path: Path) -> None:
    code, modules, done = run_and_list_modules(tmp_path, "policy", "--help")
    assert code == 0 and "import-shipped" in done.stdout, done.stdout + done.stderr
    assert loaded_from(modules, NOT_FOR_FLOW_COMMANDS) == []
