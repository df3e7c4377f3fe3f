"""``policybot db``: the database's schema revision, upgrades, and (for developers) new migrations.

Upgrades also happen by themselves whenever the bot opens its database; these commands exist so
an administrator can upgrade before starting a new release's replicas, and see where a
database stands (docs/deploy.md, "Upgrades").

SQLAlchemy and Alembic are imported inside the commands, so listing the commands
(``policybot --help``) does not load them (docs/benchmarks.md, "CLI start").
"""

from __future__ import annotations

import click

from bot.cli.options import CliContext, pass_cli
from bot.errors import PolicybotError


def _url(ctx: CliContext) -> str:
    """The same database the bot would use: --database / $POLICYBOT_DATABASE_URL, settings, default."""
    from bot.store.connect import default_database_url

    return ctx.database_url or ctx.settings.database_url or default_database_url()


@click.group("db")
def db() -> None:
    """The database: schema revision, upgrades, migrations."""


@db.command("upgrade")
@click.option("--to", "revision", default="head", show_default=True, help="Revision to upgrade to.")
@pass_cli
def upgrade_command(ctx: CliContext, revision: str) -> None:
    """Bring the database's tables up to date (safe while other replicas run or start)."""
    from bot.store import migrate
    from bot.store.connect import create_db_engine, safe_url

    url = _url(ctx)
    engine = create_db_engine(url)
    try:
        result = migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    where = safe_url(url)
    if result.before == result.after and not result.created_without_migration:
        click.echo(f"{where}: already at revision {result.after}, nothing to do")
        return
    click.echo(f"{where}: upgraded from {result.before or 'an empty database'} to {result.after}")
    for table in result.created_without_migration:
        click.echo(f"warning: table {table} has no migration yet and was created directly", err=True)


@db.command("current")
@pass_cli
def current_command(ctx: CliContext) -> None:
    """Show the database's revision and whether it is the newest this version knows."""
    from bot.store import migrate
    from bot.store.connect import create_db_engine, safe_url

    url = _url(ctx)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
    except Exception as err:
        raise PolicybotError(f"cannot read the database {safe_url(url)}: {err}") from None
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current is None:
        state = "empty (no policybot tables yet; they are created on first start or by `policybot db upgrade`)"
    elif current == head:
        state = f"{current} (newest)"
    else:
        state = f"{current} (this version's newest is {head}: run `policybot db upgrade`)"
    click.echo(f"{safe_url(url)}: {state}")


@db.command("history")
def history_command() -> None:
    """List the migrations this version ships, oldest first."""
    from bot.store import migrate

    for revision, doc in migrate.history():
        click.echo(f"{revision}  {doc}")


@db.command("check")
@pass_cli
def check_command(ctx: CliContext) -> None:
    """Exit 1 if the database's tables differ from what this version's code expects."""
    from bot.store import migrate
    from bot.store.connect import create_db_engine, safe_url

    url = _url(ctx)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            diffs = migrate.differences(conn)
    finally:
        engine.dispose()
    if not diffs:
        click.echo(f"{safe_url(url)}: tables match the code")
        return
    for diff in diffs:
        click.echo(f"differs: {diff}")
    raise SystemExit(1)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the change is, in a few words.")
def revision_command(message: str) -> None:
    """(Developers) write a migration for tables or columns added to the code since the newest one."""
    from bot.store import migrate

    path = migrate.new_revision(message)
    click.echo(f"wrote {path}: read it, adjust it if needed, and commit it with the code change")


COMMANDS = [db]
