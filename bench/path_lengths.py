"""How many questions people answer before they get advice, per flow (docs/path-lengths.md).

The product owner's rule: at most 6 questions to any outcome, most within 3. This script reads
every path of every flow through the ``policybot paths FLOW --json`` command (the contract other
tools use) and prints a markdown table: paths, median and maximum questions under the default
settings, and the longest path under any combination of the organisation rules (a branch on a rule
can add or skip questions). Run from the repository root:

    .venv/bin/python bench/path_lengths.py > /tmp/table.md

and paste the table into docs/path-lengths.md. Exits 1 if any path is longer than 6 questions.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from bot.cli.main import cli
from bot.conversation.library import default_flows_dir
from bot.language.settings import RULE_CHOICES

LIMIT = 6


def policybot(*args: str) -> Any:
    """Run a policybot command in-process (the real click command) and parse its JSON output."""
    result = CliRunner().invoke(cli, list(args))
    if result.exit_code != 0:
        raise SystemExit(f"policybot {' '.join(args)} failed:\n{result.output}")
    return json.loads(result.stdout)


def lengths(flow_id: str, settings: Path | None = None) -> list[int]:
    """The number of questions on each path of a flow (branches on settings are not questions)."""
    prefix = ["--settings", str(settings)] if settings else []
    return [len(path["answers"]) for path in policybot(*prefix, "paths", flow_id, "--json")]


def rules_used(flow_id: str) -> list[str]:
    """The organisation rules a flow's text mentions (only those can change its paths)."""
    text = (default_flows_dir() / f"{flow_id}.yaml").read_text(encoding="utf-8")
    return sorted(name for name in RULE_CHOICES if f"org.rules.{name}" in text)


def rule_combinations(names: list[str], folder: Path) -> list[Path]:
    """One settings file per combination of choices for the given rules."""
    files = []
    for values in itertools.product(*(RULE_CHOICES[n] for n in names)):
        rules = dict(zip(names, values, strict=True))
        path = folder / ("rules-" + "-".join(f"{n}={v}" for n, v in rules.items()) + ".yaml")
        path.write_text(yaml.safe_dump({"rules": rules}), encoding="utf-8")
        files.append(path)
    return files


def main() -> int:
    flows = [f["id"] for f in policybot("flows", "--json")]
    rows = []
    too_long = []
    with tempfile.TemporaryDirectory() as tmp:
        for flow_id in flows:
            default = lengths(flow_id)
            names = rules_used(flow_id)
            longest_any = max(
                [
                    max(default),
                    *(max(lengths(flow_id, path), default=0) for path in rule_combinations(names, Path(tmp))),
                ]
            )
            within_3 = sum(n <= 3 for n in default)
            rows.append(
                f"| `{flow_id}` | {len(default)} | {statistics.median(default):g} | {max(default)} | "
                f"{within_3} of {len(default)} | {longest_any} | {', '.join(names) or '-'} |"
            )
            if longest_any > LIMIT:
                too_long.append(flow_id)
    print(
        "| flow | paths | median questions | max questions | paths within 3 "
        "| max under any rule settings | rules it branches on |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    if too_long:
        print(f"\nLonger than {LIMIT} questions somewhere: {', '.join(too_long)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
