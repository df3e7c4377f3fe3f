"""Commands about flows: list, route, paths, validate, graph, test, run.

``flows --json``, ``route --json``, ``paths --json`` and ``validate`` are contracts other tools
rely on (../shared/DESIGN.md): change their output only together with those tools.

Each command imports what it uses inside its body, so ``route`` does not pay for the engine, the
store or the scenario runner that ``run`` and ``test`` need (docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bot.cli.options import CliContext, pass_cli
from bot.errors import FileProblems, PolicybotError, Problem


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("flows")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def flows_command(ctx: CliContext, as_json: bool) -> None:
    """List the flows: id, title and what they are for."""
    flows = ctx.library.all()
    if as_json:
        _dump(
            [{"id": f.id, "title": f.title, "description": f.description, "triggers": list(f.triggers)} for f in flows]
        )
        return
    width = max((len(f.id) for f in flows), default=0)
    for f in flows:
        drafts = sorted(code for code, status in f.translation_status.items() if status == "draft")
        note = f"  [{', '.join(drafts)}: draft translation]" if drafts else ""
        click.echo(f"{f.id.ljust(width)}  {f.title}{note}")


@click.command("route")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=5, show_default=True, help="How many flows to show (JSON lists all).")
@pass_cli
def route_command(ctx: CliContext, text: str, as_json: bool, limit: int) -> None:
    """Which flows best match a situation described in words."""
    from bot.conversation.router import understand

    routing = understand(text, ctx.library.all())
    if as_json:
        _dump([{"flow": m.flow.id, "score": m.score} for m in routing.matches])
        return
    if routing.language == "cy":
        click.echo("(read as Welsh)")
    for m in routing.matches[:limit]:
        click.echo(f"{m.score:.2f}  {m.flow.id}  ({m.flow.title})")


@click.command("paths")
@click.argument("flow_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def paths_command(ctx: CliContext, flow_id: str, as_json: bool) -> None:
    """Every path from the start of a flow to each of its outcomes."""
    from bot.conversation.paths import paths_json

    library = ctx.library
    paths = paths_json(library.compiled(library.get(flow_id)), library.settings)
    if as_json:
        _dump(paths)
        return
    for number, path in enumerate(paths, 1):
        trail = " / ".join(a["answer"] for a in path["answers"]) or "(no questions)"
        outcome = path["outcome"]
        click.echo(f"{number:3}. {trail}\n     -> {outcome['state']} [{outcome['verdict']}]")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_cli
def validate_command(ctx: CliContext, paths: tuple[Path, ...]) -> None:
    """Check flow files and report every problem as file:line: message (exit 1 if any)."""
    from bot.conversation.library import check_files

    problems: list[Problem] = []
    try:
        registry = ctx.registry()
    except FileProblems as err:
        problems.extend(err.problems)
        registry = None
    try:  # a broken settings file is one more file:line problem, not a crash
        settings = ctx.settings
    except FileProblems as err:
        problems.extend(err.problems)
        settings = None
    targets = list(paths) or [ctx.flows_folder]
    missing = [p for p in targets if not p.exists()]
    problems += [Problem(str(p), 1, "no such file or folder") for p in missing]
    if registry is not None and settings is not None:
        # every check that can run on what was read, in every file, broken or not
        good, found = check_files([p for p in targets if p.exists()], registry, settings)
        problems += found
        if len(settings.languages) > 1:  # every text in every language the settings switch on
            from bot.language.i18n.flow_translations import registry_problems, translation_problems

            problems += [p for flow in good for p in translation_problems(flow, settings)]
            problems += registry_problems(registry, settings)
    unique = sorted(set(problems))
    for problem in unique:
        click.echo(str(problem))
    if unique:  # clean flows print nothing at all: "run validate until it prints nothing"
        click.echo(f"{len(unique)} problem{'' if len(unique) == 1 else 's'} found.", err=True)
        sys.exit(1)


@click.command("graph")
@click.argument("flow_id")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@pass_cli
def graph_command(ctx: CliContext, flow_id: str, fmt: str) -> None:
    """Draw a flow as a Mermaid flowchart (renders on GitHub) or Graphviz dot."""
    from bot.language.graph import dot, mermaid

    flow = ctx.library.get(flow_id)
    click.echo(mermaid(flow) if fmt == "mermaid" else dot(flow), nl=False)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option("--allow-gaps", is_flag=True, help="Do not fail when some outcomes have no scenario.")
@pass_cli
def test_command(ctx: CliContext, paths: tuple[Path, ...], allow_gaps: bool) -> None:
    """Run the scenario tests (*.test.yaml) and report outcomes no scenario reaches."""
    from bot.conversation.scenarios import run_scenarios, scenario_files

    library = ctx.library
    report = run_scenarios(library, scenario_files(list(paths) or [ctx.flows_folder]))
    for problem in report.problems:
        click.echo(str(problem))
    for result in report.results:
        if not result.passed:
            for failure in result.failures:
                click.echo(f"{result.file}:{result.line}: FAIL {result.flow_id} / {result.name}: {failure}")
    passed = sum(r.passed for r in report.results)
    click.echo("\nOutcome coverage per flow:")
    gaps = 0
    for flow_id, (reached, outcomes) in sorted(report.coverage.items()):
        share = 100.0 * len(reached & outcomes) / len(outcomes) if outcomes else 100.0
        missing = sorted(outcomes - reached)
        gaps += len(missing)
        click.echo(f"  {flow_id:24} {share:5.1f}%" + (f"  not reached: {', '.join(missing)}" if missing else ""))
    failed = len(report.results) - passed
    click.echo(f"\n{passed} passed, {failed} failed")
    if failed or report.problems or (gaps and not allow_gaps):
        sys.exit(1)


@click.command("run")
@click.argument("flow_id")
@click.option("--answer", "answers", multiple=True, help="An answer: the option's number or words. Repeat in order.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--lang",
    "language",
    default=None,
    help="Walk it in this language (cy: Welsh), whether or not the settings offer it yet.",
)
@pass_cli
def run_command(ctx: CliContext, flow_id: str, answers: tuple[str, ...], as_json: bool, language: str | None) -> None:
    """Walk a flow with the given answers and print where it ends (nothing is stored)."""
    from bot.conversation.engine import Engine
    from bot.conversation.events import Actor, FreeText, Start
    from bot.conversation.library import FlowLibrary
    from bot.conversation.replies import Notice, NoticeKind, Outcome, Question, without_switch
    from bot.store import Store

    library = ctx.library
    library.get(flow_id)  # an unknown flow is an error with a "did you mean", not a silent menu
    if language and language not in library.settings.languages:  # an author trying a translation
        settings = library.settings.with_overrides({"languages": [*library.settings.languages, language]})
        library = FlowLibrary(library.all(), library.registry, settings)
    store = Store("sqlite://")
    engine = Engine(library, store)
    actor = Actor(user_id="cli", display_name="You", locale=language)

    said = without_switch  # no switch to press here
    replies = said(engine.handle(actor, Start(flow_id=flow_id)))
    for answer in answers:
        current = replies[-1]
        if not isinstance(current, Question):
            raise PolicybotError(f"the flow had already finished before the answer '{answer}'")
        replies = said(engine.handle(actor, FreeText(answer, current.conversation_id)))
        invalid = [r for r in replies if isinstance(r, Notice) and r.kind is NoticeKind.INVALID]
        if invalid:
            options = "; ".join(f"{o.index + 1}. {o.label}" for o in current.options)
            raise PolicybotError(f"'{answer}' is not an answer to \"{current.text}\". Options: {options}")
    store.close()
    last = replies[-1]
    if isinstance(last, Outcome):
        if as_json:
            finished = {
                "finished": True,
                "state": last.state,
                "verdict": last.verdict.value,
                "text": last.text,
                "checklist": last.checklist,
                "cite": [c.id for c in last.citations],
                "escalate": ([*last.escalation.targets, *last.escalation.then] if last.escalation else []),
            }
            if language:  # only with --lang, so the contract's output is unchanged without it
                finished["language"] = last.language
            _dump(finished)
            return
        click.echo(f"{last.headline.upper()} ({last.state})\n{last.text}")
        for item in last.checklist:
            click.echo(f"  [ ] {item}")
        for c in last.citations:
            click.echo(f"  - {c.policy_title}, {c.clause}")
        return
    if isinstance(last, Question):
        if as_json:
            _dump(
                {
                    "finished": False,
                    "state": last.state,
                    "question": last.text,
                    "options": [o.label for o in last.options],
                }
            )
            return
        click.echo(f"Not finished. Next question ({last.state}): {last.text}")
        for o in last.options:
            click.echo(f"  {o.index + 1}. {o.label}")
        sys.exit(3)


COMMANDS = [flows_command, route_command, paths_command, validate_command, graph_command, test_command, run_command]
