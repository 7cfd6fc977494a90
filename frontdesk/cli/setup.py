"""Setting up: create a workspace, load the demo, migrate the database, inspect failed jobs."""

from __future__ import annotations

import secrets

import click

from agent.core.errors import FrontdeskError
from agent.core.workspaces import NewMember
from agent.storage import migrate
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)


def _fail(exc: FrontdeskError) -> click.ClickException:
    return click.ClickException(str(exc))


@click.command()
@click.option("--workspace", "workspace_name", prompt="Business name", help="Business name.")
@click.option("--admin-email", prompt="Admin email", help="The first admin's email (login).")
@click.option(
    "--admin-password",
    prompt="Admin password",
    hide_input=True,
    confirmation_prompt=True,
    help="At least 10 characters; common passwords are refused.",
)
@click.option("--admin-name", default="", help="The admin's display name.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
@click.option("--country", default="US", show_default=True, help="ISO country code for phones.")
@pass_cli
def init(
    cli: CliContext,
    workspace_name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str,
    timezone: str,
    country: str,
) -> None:
    """Create a workspace and its first admin (prompts for anything not given)."""
    admin = NewMember(name=admin_name, email=admin_email, password=admin_password, role="admin")
    profile = {"name": workspace_name, "timezone": timezone, "country": country}
    try:
        workspace = cli.container.workspaces.create(profile, admin)
    except FrontdeskError as exc:
        raise _fail(exc) from None
    click.echo(
        f"Created workspace {workspace.name!r} (id {workspace.id}) with admin {admin_email}."
    )
    click.echo("Next: `frontdesk up` and log in.")


@click.command()
@click.option("--admin-email", default="admin@demo.example", show_default=True)
@click.option("--admin-password", default=None, help="Default: a random one, printed once.")
@click.option("--if-empty", is_flag=True, help="Do nothing when a workspace already exists.")
@pass_cli
def demo(cli: CliContext, admin_email: str, admin_password: str | None, if_empty: bool) -> None:
    """Create a demo workspace from the sample bike workshop shipped with frontdesk."""
    from frontdesk.demo import create_demo

    if if_empty and cli.container.workspaces.all():
        click.echo("A workspace already exists; leaving it as it is.")
        return
    password = admin_password or secrets.token_urlsafe(12)
    admin = NewMember(name="Demo Admin", email=admin_email, password=password, role="admin")
    try:
        workspace = create_demo(cli.container, admin)
    except FrontdeskError as exc:
        raise _fail(exc) from None
    click.echo(f"Created the demo workspace {workspace.name!r} (id {workspace.id}).")
    click.echo(f"Log in as {admin_email} with password: {password}")


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@pass_cli
def upgrade(cli: CliContext) -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    container = cli.container  # building it migrates
    click.echo(f"Database at revision {migrate.current_revision(container.engine)} (head).")


@db.command()
@pass_cli
def current(cli: CliContext) -> None:
    """Show the database's migration revision without changing anything."""
    from frontdesk.wiring import build

    engine = build(cli.settings).engine
    rev, head = migrate.current_revision(engine), migrate.head_revision(engine)
    state = "up to date" if rev == head else f"behind (head is {head}); run `frontdesk db upgrade`"
    click.echo(f"{rev or 'empty'}: {state}")


@click.group()
def jobs() -> None:
    """Background job commands."""


@jobs.command()
@click.option("--limit", default=20, show_default=True)
@click.option("--traceback", "show_tb", is_flag=True, help="Print each failure's traceback.")
@pass_cli
def failed(cli: CliContext, limit: int, show_tb: bool) -> None:
    """List the most recent failed background jobs."""
    with cli.container.uow() as uow:
        failures = uow.job_failures(limit)
    if not failures:
        click.echo("No failed jobs.")
        return
    for f in failures:
        state = "failed" if f.final else "will retry"
        when = f.created_at.strftime("%Y-%m-%d %H:%M:%S") if f.created_at else "?"
        click.echo(f"{when}  {f.job_id}  {f.function}{tuple(f.args)}  [{state}]  {f.error}")
        if show_tb:
            click.echo(f.traceback)
