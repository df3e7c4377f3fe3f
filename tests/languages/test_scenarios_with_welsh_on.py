"""The shipped scenario tests pass when the council offers Welsh, whatever its default language:
scenarios are written in English and run in English, and the language switch the core adds after
every reply set is not a step of the conversation."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli


def test_every_shipped_scenario_passes_with_welsh_offered_and_the_default(tmp_path: Path) -> None:
    # Welsh as the default is the harder case: the switch follows every reply set (as with an
    # English default), and the scenarios must still run in the English they are written in.
    settings = tmp_path / "policybot.yaml"
    settings.write_text("languages: [en, cy]\ndefault_language: cy\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--settings", str(settings), "test"])
    assert result.exit_code == 0, result.output[-2000:]
    assert ", 0 failed" in result.output
