"""The CLI starts without loading what a command does not use (docs/benchmarks.md, "CLI start").

``policybot route`` and ``validate`` used to import the database layer, Alembic, the case service,
slack_bolt, aiohttp and the Bot Framework before doing anything, which took most of their
start-up time. These tests guard the structure that keeps them out, not a timing (timings are
for bench/bench_cli.py): each command runs in a fresh interpreter, then the test looks at which
modules that interpreter had loaded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from bot.cli import case_commands, coverage_command, data_commands, db_commands, flow_commands, library_commands
from bot.cli.lazy import LazyGroup, import_object
from bot.cli.main import BUILT_IN_COMMANDS, cli

POLICYBOT = Path(sys.executable).with_name("policybot")

# Libraries none of the flow commands below needs: each costs tens to hundreds of milliseconds
# to import. jsonschema is only for explaining an invalid file; the shipped flows are valid.
NOT_FOR_FLOW_COMMANDS = (
    "alembic",
    "sqlalchemy",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "microsoft_agents",
    "prometheus_client",
    "jsonschema",
)
# Parts of policybot they do not need either: the store, cases, ops, runtime, every adapter.
NOT_FOR_FLOW_COMMANDS_OURS = ("bot.store.database", "bot.cases", "bot.ops", "bot.runtime", "adapters")

# Run main() as the console script does, then write what was loaded to the file given first.
DRIVER = """
import json, sys
from bot.cli.main import main
out, sys.argv = sys.argv[1], ["policybot", *sys.argv[2:]]
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code
with open(out, "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def run_and_list_modules(tmp_path: Path, *args: str) -> tuple[Any, set[str], subprocess.CompletedProcess[str]]:
    """Run ``policybot ARGS`` in a new interpreter: its exit code, loaded modules and output."""
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # no ./policybot.yaml: the shipped defaults
        env=env,
        check=False,
    )
    assert out.exists(), f"policybot {' '.join(args)} did not finish:\n{done.stdout}\n{done.stderr}"
    report = json.loads(out.read_text(encoding="utf-8"))
    return report["code"], set(report["modules"]), done


def loaded_from(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages or modules) were loaded, themselves or any module inside them."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize(
    "args",
    [
        ("route", "someone left a nasty comment on our page", "--json"),
        ("route", "someone left a nasty comment on our page"),
        ("validate",),
        ("flows", "--json"),
        ("graph", "legal-threat"),
        ("paths", "legal-threat", "--json"),
    ],
    ids=lambda args: " ".join(args[:1] + args[2:]),
)
def test_flow_commands_load_no_database_case_or_platform_code(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, modules, done = run_and_list_modules(tmp_path, *args)
    assert code == 0, done.stdout + done.stderr
    # validate answers a clean folder with silence and exit 0; every other command prints its answer
    assert done.stdout.strip() or args == ("validate",), "no answer: the checks prove nothing"
    assert loaded_from(modules, NOT_FOR_FLOW_COMMANDS) == []
    assert loaded_from(modules, NOT_FOR_FLOW_COMMANDS_OURS) == []
    assert "importlib.metadata" not in modules  # plug-ins are only looked up for names not built in


def test_route_json_still_answers_in_the_fast_path(tmp_path: Path) -> None:
    """The lean start changes nothing in the output: best match first, every flow scored."""
    _, _, done = run_and_list_modules(tmp_path, "route", "someone left a nasty comment on our page", "--json")
    matches = json.loads(done.stdout)
    assert matches[0]["flow"] == "negative-comment"
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


def test_the_guard_sees_a_heavy_import(tmp_path: Path) -> None:
    """The check can fail: a command that does open the database loads SQLAlchemy and Alembic."""
    code, modules, done = run_and_list_modules(
        tmp_path, "--database", f"sqlite:///{tmp_path / 'guard.db'}", "db", "upgrade"
    )
    assert code == 0, done.stdout + done.stderr
    assert loaded_from(modules, NOT_FOR_FLOW_COMMANDS) == ["alembic", "sqlalchemy"]


def test_importing_the_cli_loads_no_command_module() -> None:
    code = (
        "import json, sys, bot.cli.main; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('bot.', 'adapters')) "
        f"or m.split('.')[0] in {NOT_FOR_FLOW_COMMANDS!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    assert loaded <= {"bot.cli", "bot.cli.main", "bot.cli.lazy", "bot.cli.options", "bot.errors"}, loaded


@pytest.mark.parametrize(
    "module", [flow_commands, db_commands, case_commands, coverage_command, data_commands, library_commands]
)
def test_the_lazy_table_names_every_command_of_each_module(module: Any) -> None:
    """main.BUILT_IN_COMMANDS is written out by hand; it must agree with each module's COMMANDS."""
    listed = {name: target for name, target in BUILT_IN_COMMANDS.items() if target.startswith(module.__name__ + ":")}
    assert sorted(listed) == sorted(command.name for command in module.COMMANDS)
    for name, target in listed.items():
        command = import_object(target)
        assert command in module.COMMANDS and command.name == name


def test_help_lists_every_command_with_its_help_text() -> None:
    done = subprocess.run([str(POLICYBOT), "--help"], capture_output=True, text=True, timeout=120, check=True)
    section = done.stdout.split("Commands:\n", 1)[1]
    rows = dict(re.findall(r"^  (\S+)\s+(.+)$", section, flags=re.MULTILINE))
    plug_ins = {e.name for e in entry_points(group="policybot.commands")}
    assert set(rows) == {*BUILT_IN_COMMANDS, *plug_ins, "serve"}
    context = click.Context(cli)
    for name, shown in rows.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert (command.help or "").replace("\n", " ").startswith(shown.removesuffix("...")), name


def test_serve_lists_the_platforms_from_entry_points() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for entry in entry_points(group="policybot.serve"):
        assert re.search(rf"^  {entry.name}\s+\S", result.output, flags=re.MULTILINE), entry.name


def test_a_mistyped_command_is_matched_against_commands_not_yet_loaded() -> None:
    group = LazyGroup(name="demo", lazy_commands={"route": "bot.cli.flow_commands:route_command"})
    result = CliRunner().invoke(group, ["rout", "x"])
    assert result.exit_code == 2
    assert "Did you mean 'route'?" in result.output
    assert group.commands == {}  # suggesting a name did not import its command


def test_a_lazy_target_that_is_not_a_command_is_refused_by_name() -> None:
    group = LazyGroup(name="demo", lazy_commands={"broken": "bot.cli.main:BUILT_IN_COMMANDS"})
    with pytest.raises(TypeError, match="command 'broken'\\) is not a click command"):
        group.get_command(click.Context(group), "broken")
