"""Commands about escalation cases: ``cases``, ``worker`` (and the reports in bot/ops/reports.py).

``policybot cases`` is the operator's view: whoever runs it already holds the database, so it
lists and shows every case. Acting on a case (``ack``, ``resolve``, ``withdraw``, ``message``)
goes through the same directory checks as a chat click, as the person named by ``--as``.

The case service, the worker, the directory and the reports are imported inside the commands
that use them, so ``policybot --help`` does not load them all (docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

import getpass
import importlib
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cases.model import STATES, Case
from bot.cli.options import CliContext, pass_cli
from bot.errors import FileProblems, PolicybotError

if TYPE_CHECKING:
    from bot.cases.notify import Notifier
    from bot.cases.service import CaseService
    from bot.conversation.events import Actor
    from bot.runtime import Runtime

# Notifiers the worker can use without a chat platform; adapters add theirs through the
# ``policybot.notifiers`` entry point group (name -> callable taking the Runtime).
BUILT_IN_NOTIFIERS = {"console": "adapters.console.notifier:ConsoleNotifier"}


def _service(ctx: CliContext) -> tuple[Runtime, CaseService]:
    runtime = ctx.runtime()
    if runtime.cases is None:
        raise PolicybotError("escalation cases are switched off in this installation")
    return runtime, runtime.cases


def _actor(as_id: str | None) -> Actor:
    """The terminal user, as the directory id given (or the login name): ``console:<id>``."""
    from bot.conversation.events import Actor

    who = as_id or os.environ.get("POLICYBOT_USER") or getpass.getuser()
    return Actor(user_id=f"console:{who}", display_name=who, platform="console")


def _when(service: CaseService, at: datetime | None) -> str:
    return service.compose.local(at) if at else "-"


def case_json(case: Case) -> dict[str, Any]:
    """A case as JSON (the shape of ``cases --json`` and ``cases show --json``)."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "id": case.id,
        "state": case.state,
        "flow": case.flow_id,
        "flow_version": case.flow_version,
        "flow_title": case.flow_title,
        "outcome": case.outcome_state,
        "verdict": case.verdict,
        "urgency": case.urgency,
        "employee": {"user_id": case.employee_user_id, "directory_id": case.employee_key, "name": case.employee_name},
        "summary": case.summary,
        "note": case.note,
        "answers": [{"question": a.question, "answer": a.answer} for a in case.answers],
        "cite": [c.id for c in case.citations],
        "targets": list(case.targets),
        "then": list(case.then),
        "recipients": [
            {"name": r.name, "kind": r.kind, "key": r.key, "target": r.target, "round": r.round, "note": r.note}
            for r in case.recipients
        ],
        "created_at": iso(case.created_at),
        "ack_due_at": iso(case.ack_due_at),
        "acknowledged_at": iso(case.acknowledged_at),
        "acknowledged_by": case.acknowledged_by_name,
        "closed_at": iso(case.closed_at),
        "closed_by": case.closed_by_name,
        "resolution": case.resolution,
        "events": [
            {"at": iso(e.at), "action": e.action, "actor": e.actor_name, "detail": e.detail} for e in case.events
        ],
        "deliveries": [
            {
                "id": d.id,
                "kind": d.kind,
                "to": d.recipient,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in case.deliveries
        ],
        "failed_deliveries": len(case.failed_deliveries),
    }


def _list(ctx: CliContext, state: str | None, target: str | None, failed: bool, as_json: bool) -> None:
    _, service = _service(ctx)
    found = service.list_cases(state=state, target=target, failed_only=failed)
    if as_json:
        click.echo(json.dumps([case_json(c) for c in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No cases" + (" match." if state or target or failed else " yet."))
        return
    click.echo(f"{'CASE':8}  {'STATE':12}  {'OPENED':26}  {'FLOW':20}  {'EMPLOYEE':20}  SENT TO")
    for case in found:
        sent_to = ", ".join(case.recipient_names())
        line = (
            f"{case.short_id:8}  {case.state:12}  {_when(service, case.created_at):26}  "
            f"{case.flow_id[:20]:20}  {case.employee_name[:20]:20}  {sent_to}"
        )
        click.echo(line)
        if case.failed_deliveries:
            names = ", ".join(sorted({d.recipient for d in case.failed_deliveries}))
            click.echo(
                click.style(
                    f"          ! {len(case.failed_deliveries)} notification(s) NOT DELIVERED (to {names}): "
                    f"policybot cases show {case.short_id}",
                    fg="red",
                )
            )
    click.echo(f"{len(found)} case(s).", err=True)


@click.group("cases", invoke_without_command=True)
@click.option(
    "--state", type=click.Choice([*STATES, "live"]), help="Only cases in this state (live: open or acknowledged)."
)
@click.option("--target", help="Only cases sent to this target (line_manager, comms, legal, hr, safeguarding).")
@click.option("--failed", is_flag=True, help="Only cases with a notification that could not be delivered.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def cases_group(click_ctx: click.Context, state: str | None, target: str | None, failed: bool, as_json: bool) -> None:
    """Escalation cases: list (the default), show, ack, resolve, withdraw, message."""
    if click_ctx.invoked_subcommand is None:
        _list(click_ctx.ensure_object(CliContext), state, target, failed, as_json)


@cases_group.command("list")
@click.option(
    "--state", type=click.Choice([*STATES, "live"]), help="Only cases in this state (live: open or acknowledged)."
)
@click.option("--target", help="Only cases sent to this target (line_manager, comms, legal, hr, safeguarding).")
@click.option("--failed", is_flag=True, help="Only cases with a notification that could not be delivered.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def list_command(ctx: CliContext, state: str | None, target: str | None, failed: bool, as_json: bool) -> None:
    """List cases, newest first."""
    _list(ctx, state, target, failed, as_json)


@cases_group.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def show_command(ctx: CliContext, case_id: str, as_json: bool) -> None:
    """Everything about one case: what was sent, to whom and why, its history and its deliveries."""
    _, service = _service(ctx)
    case = service.find(case_id)
    if as_json:
        click.echo(json.dumps(case_json(case), indent=2, ensure_ascii=False))
        return
    out = [
        click.style(
            f"Case {case.id}  [{case.state.upper()}]" + ("  URGENT" if case.urgency == "urgent" else ""), bold=True
        ),
        f"Employee:   {case.employee_name} ({case.employee_key or case.employee_user_id})",
        f"Flow:       {case.flow_title} ({case.flow_id}, version {case.flow_version}, outcome {case.outcome_state})",
        f"Opened:     {_when(service, case.created_at)}",
    ]
    if case.state == "open" and case.ack_due_at:
        out.append(f"Chase at:   {_when(service, case.ack_due_at)} (round {case.round + 1})")
    if case.acknowledged_at:
        out.append(f"Acknowledged: {_when(service, case.acknowledged_at)} by {case.acknowledged_by_name}")
    if case.closed_at:
        out.append(f"{case.state.capitalize()}: {_when(service, case.closed_at)} by {case.closed_by_name}")
    if case.resolution:
        out.append(f"Resolution: {case.resolution}")
    out += ["", click.style("What was sent:", bold=True), *("  " + line for line in case.summary.splitlines())]
    out += ["", click.style("Sent to:", bold=True)]
    for r in case.recipients:
        chased = f", added when chasing (round {r.round})" if r.round else ""
        out.append(f"  - {r.name} [{r.target}{chased}]" + (f"\n    why: {r.note}" if r.note else ""))
    out += ["", click.style("History:", bold=True)]
    out += [
        f"  {_when(service, e.at)}  {e.action:16} {e.actor_name}" + (f": {e.detail}" if e.detail else "")
        for e in case.events
    ]
    out += ["", click.style("Notifications:", bold=True)]
    for d in case.deliveries:
        status = d.status.upper() if d.status == "failed" else d.status
        text = f"  {d.id[:8]}  {d.kind:16} to {d.recipient}: {status}, {d.attempts} attempt(s)"
        if d.status == "pending" and d.attempts:
            text += f", next try {_when(service, d.next_attempt_at)}"
        if d.last_error:
            text += f"\n            last error: {d.last_error}"
        out.append(click.style(text, fg="red") if d.status == "failed" else text)
    click.echo("\n".join(out))


_AS = click.option("--as", "as_id", help="Your directory id (default: $POLICYBOT_USER or your login name).")


@cases_group.command("ack")
@click.argument("case_id")
@_AS
@pass_cli
def ack_command(ctx: CliContext, case_id: str, as_id: str | None) -> None:
    """Acknowledge a case sent to you (the employee is told)."""
    _, service = _service(ctx)
    click.echo(service.acknowledge(service.find(case_id).id, _actor(as_id)).message)


@cases_group.command("resolve")
@click.argument("case_id")
@click.option("--note", help="What was done (the employee sees it).")
@_AS
@pass_cli
def resolve_command(ctx: CliContext, case_id: str, note: str | None, as_id: str | None) -> None:
    """Mark a case as resolved (the employee is told)."""
    _, service = _service(ctx)
    click.echo(service.resolve(service.find(case_id).id, _actor(as_id), note).message)


@cases_group.command("withdraw")
@click.argument("case_id")
@_AS
@pass_cli
def withdraw_command(ctx: CliContext, case_id: str, as_id: str | None) -> None:
    """Withdraw your own case (its recipients are told nothing more is needed)."""
    _, service = _service(ctx)
    click.echo(service.withdraw(service.find(case_id).id, _actor(as_id)).message)


@cases_group.command("message")
@click.argument("case_id")
@click.argument("text")
@_AS
@pass_cli
def message_command(ctx: CliContext, case_id: str, text: str, as_id: str | None) -> None:
    """Send a message about a case: to the employee, or (from the employee) to its recipients."""
    _, service = _service(ctx)
    case = service.find(case_id)
    actor = _actor(as_id)
    if service.access.is_employee(case, actor, service.access.person(actor)):
        click.echo(service.message_recipients(case.id, actor, text).message)
    else:
        click.echo(service.message_employee(case.id, actor, text).message)


def load_notifier(name: str, runtime: Runtime) -> Notifier:
    """A notifier by name: from the ``policybot.notifiers`` entry points, else a built-in one."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="policybot.notifiers"):
        if entry.name == name:
            factory: Callable[[Runtime], Notifier] = entry.load()
            return factory(runtime)
    spec = BUILT_IN_NOTIFIERS.get(name)
    if spec is None:
        known = sorted({*BUILT_IN_NOTIFIERS, *(e.name for e in entry_points(group="policybot.notifiers"))})
        raise PolicybotError(f"there is no notifier called '{name}'; choose one of: {', '.join(known)}")
    module, _, attr = spec.partition(":")
    notifier: Notifier = getattr(importlib.import_module(module), attr)()
    return notifier


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass: fire due timers, deliver due notifications, exit.")
@click.option("--notifier", "notifier_name", default="console", show_default=True, help="How to deliver.")
@click.option("--interval", type=float, help="Seconds between passes (default: cases.worker_interval_seconds).")
@pass_cli
def worker_command(ctx: CliContext, once: bool, notifier_name: str, interval: float | None) -> None:
    """Chase unacknowledged cases and deliver notifications (serve runs this too)."""
    from bot.cases.worker import Worker

    runtime, _ = _service(ctx)
    worker = Worker(runtime, load_notifier(notifier_name, runtime), interval=interval)
    if once:
        report = worker.run_once()
        d = report.deliveries
        click.echo(
            f"Chased {report.timers_fired} case(s); delivered {len(d.delivered)}, "
            f"will retry {len(d.retrying)}, gave up on {len(d.failed)}.",
            err=True,
        )
        if d.failed:
            sys.exit(1)
        return
    click.echo(f"policybot worker: every {worker.interval:g} s. Press Ctrl+C to stop.", err=True)
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@click.group("directory")
def directory_group() -> None:
    """The staff directory (who manages whom, who is in which team)."""


@directory_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@pass_cli
def directory_check_command(ctx: CliContext, path: Path | None) -> None:
    """Check the directory file: errors stop the bot (exit 1); warnings send escalations to comms."""
    from bot.cases.directory import COMMS, Directory, target_role

    path = path or ctx.settings.directory_path
    if path is None:
        raise PolicybotError("no directory file: give its path, or set `directory:` in policybot.yaml")
    try:
        directory = Directory.load(path)
    except FileProblems as err:
        for problem in err.problems:
            click.echo(str(problem))
        click.echo(f"{len(err.problems)} problem(s) found.", err=True)
        sys.exit(1)
    warnings = directory.warnings()
    for problem in warnings:
        click.echo(f"{problem} (their escalations go to the comms team)")
    comms = directory.members(target_role(ctx.settings, COMMS))
    if not comms and not _has_route(ctx.settings.targets.get(COMMS, {})):
        click.echo(f"{path}:1: nobody has the comms role and the settings give the comms team no channel")
    click.echo(f"{len(directory)} people, {len(warnings)} warning(s).", err=True)


def _has_route(contact: dict[str, Any]) -> bool:
    return bool(contact.get("slack_channel") or contact.get("teams_channel") or contact.get("email"))


@click.command("stats")
@click.option(
    "--since", help="Only conversations and cases started since: an age (30d, 12w, 36h) or a date (2026-11-01)."
)
@click.option("--idle", default="1d", show_default=True, help="A conversation untouched this long counts as abandoned.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def stats_command(ctx: CliContext, since: str | None, idle: str, as_json: bool) -> None:
    """Per flow: started, completed, abandoned (and where), verdicts, escalations, time to acknowledge."""
    from bot.ops import reports

    runtime = ctx.runtime()
    now = runtime.clock.now()
    start = reports.parse_since(since, now) if since else None
    rows = reports.flow_stats(runtime.store, runtime.library, now, since=start, idle=reports.parse_age(idle))
    if as_json:
        click.echo(json.dumps(reports.stats_json(rows, now, start), indent=2, ensure_ascii=False))
        return
    click.echo(("Since " + start.strftime("%d %b %Y %H:%M UTC")) if start else "All time")
    click.echo(
        f"{'FLOW':24} {'STARTED':>7} {'DONE':>5} {'LEFT':>5} {'NOW':>4} {'ESC':>4} {'ACK':>4} "
        f"{'MEDIAN ACK':>10}  VERDICTS"
    )
    for r in rows:
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(r.verdicts.items())) or "-"
        click.echo(
            f"{r.flow[:24]:24} {r.started:>7} {r.completed:>5} {r.abandoned:>5} {r.in_progress:>4} {r.escalations:>4} "
            f"{r.acknowledged:>4} {reports.describe_seconds(r.median_seconds_to_acknowledge):>10}  {verdicts}"
        )
        if r.abandoned_at:
            where = ", ".join(f"{state} ({n})" for state, n in sorted(r.abandoned_at.items(), key=lambda kv: -kv[1]))
            click.echo(click.style(f"{'':24} left at: {where}", dim=True))


@click.command("onboarding-report")
@click.option("--manager", "manager_id", required=True, help="The manager's directory id.")
@click.option("--flow", "flow_id", default="onboarding", show_default=True, help="The walkthrough flow.")
@click.option("--indirect", is_flag=True, help="Include everyone below the manager, not only direct reports.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def onboarding_report_command(ctx: CliContext, manager_id: str, flow_id: str, indirect: bool, as_json: bool) -> None:
    """Who in a manager's team has completed the onboarding walkthrough."""
    from bot.ops import reports

    runtime = ctx.runtime()
    if runtime.directory is None or not len(runtime.directory):
        raise PolicybotError("the staff directory is empty: set `directory:` in policybot.yaml to a directory file")
    manager, rows = reports.onboarding_report(
        runtime.store, runtime.library, runtime.directory, manager_id, flow_id=flow_id, indirect=indirect
    )
    if as_json:
        data = [
            {
                "id": r.person.id,
                "name": r.person.name,
                "status": r.status,
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
                "score": list(r.score) if r.score else None,
            }
            for r in rows
        ]
        click.echo(json.dumps({"manager": manager.id, "flow": flow_id, "team": data}, indent=2, ensure_ascii=False))
        return
    done = sum(r.status == "completed" for r in rows)
    click.echo(f"{manager.name}'s team ({len(rows)} people): {done} completed the '{flow_id}' walkthrough.")
    width = max((len(r.person.id) for r in rows), default=0)
    for r in rows:
        line = f"  {r.person.id:{width}}  {r.person.name:24}  {r.status}"
        if r.completed_at:
            line += " " + r.completed_at.strftime("%d %b %Y")
        if r.score:
            line += f" (score {r.score[0]}/{r.score[1]})"
        click.echo(line)


@click.command("purge")
@click.option("--older-than", "older_than", help="Retention age, like 90d (default: retention_days in the settings).")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_cli
def purge_command(ctx: CliContext, older_than: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete conversations, audit rows, closed cases and the routing log past the retention age
    (open cases are kept)."""
    from bot.ops import reports

    runtime = ctx.runtime()
    age = reports.parse_age(older_than) if older_than else reports.parse_age(f"{runtime.settings.retention_days}d")
    report = reports.purge(runtime.store, runtime.clock.now() - age, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {report.conversations} conversation(s), {report.audit_rows} audit row(s), "
        f"{report.cases} closed case(s), {report.delivery_keys} delivery key(s) and "
        f"{report.routing_messages} routing log message(s) from before "
        f"{report.cutoff:%d %b %Y %H:%M} UTC. Kept {report.kept_live_cases} open case(s) whatever their age."
    )
    others = [f"{n} row(s) of {name}" for name, n in sorted(report.other_tables.items()) if n]
    if others:
        click.echo(f"{verb} also {', '.join(others)}.")


COMMANDS = [
    cases_group,
    worker_command,
    directory_group,
    stats_command,
    onboarding_report_command,
    purge_command,
]
