"""Operations: `frontdesk backup`, `frontdesk restore`, and privacy requests
(`frontdesk contacts export|delete`)."""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from alembic.script import ScriptDirectory

from agent.config import Settings
from agent.core.clock import system_clock
from agent.core.errors import FrontdeskError
from agent.queue.redis_server import EmbeddedRedis
from agent.storage import migrate
from agent.storage.database import make_engine
from frontdesk.backup.archive import create_backup
from frontdesk.backup.plan import BackupError, pg_restore_command
from frontdesk.backup.restore import restore_backup
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)
CLI_ACTOR = "cli"  # the audit log's actor for commands run on the server


def _version() -> str:
    try:
        return version("frontdesk")
    except PackageNotFoundError:
        return "unknown"


def _settings(cli: CliContext) -> Settings:
    """Settings as configured, without creating anything in the data directory."""
    environ = dict(os.environ)
    if cli.data_dir:
        environ["FRONTDESK_DATA_DIR"] = cli.data_dir
    try:
        return Settings.load(environ)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None


def known_revisions() -> list[str]:
    """Every schema revision this code has, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return [s.revision for s in script.walk_revisions()][::-1]


def revision_of(settings: Settings, copy: Path | None) -> str | None:
    """The schema revision of the SQLite copy, or of the database server (None if down)."""
    url = f"sqlite:///{copy}" if copy is not None else settings.sqlalchemy_url
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    except Exception:  # a database server that is down: the manifest says "unknown"
        return None
    finally:
        engine.dispose()


def upgrade_sqlite(database: Path) -> None:
    """Bring a restored SQLite copy to this code's schema (closing it fully after)."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@pass_cli
def backup(cli: CliContext, path: Path) -> None:
    """Write a backup archive (.tar.gz) of this install to PATH (a file, or a folder).

    Safe while frontdesk runs: the SQLite database is copied with SQLite's online backup
    API. Holds the database (SQLite), the AI's memory, the knowledge index (unless
    CHROMA_URL is set), uploads, attachments and the secret key, so keep it private. With
    PostgreSQL the database is not included: the command prints the pg_dump line to use.
    """
    settings = cli.settings  # the secret key is created here on a first run
    try:
        out, manifest = create_backup(
            settings,
            path.expanduser().resolve(),
            now=system_clock(),
            version=_version(),
            revision=lambda copy: revision_of(settings, copy),
            echo=click.echo,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {out} ({out.stat().st_size / 1_048_576:.1f} MB).")
    click.echo(f"Included: {', '.join(manifest.included)}.")
    for part, why in manifest.left_out.items():
        click.echo(f"Not included: {part}: {why}.")
    click.echo("It holds the secret key and customer data: store it somewhere private.")


@click.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--force",
    is_flag=True,
    help="Replace the data already in the data directory (it is kept in a folder beside it).",
)
@pass_cli
def restore(cli: CliContext, path: Path, force: bool) -> None:
    """Restore a backup archive made by `frontdesk backup` into the data directory.

    Stop frontdesk first. Refuses a data directory that already holds data unless --force;
    a damaged or unsafe archive changes nothing. An older backup is upgraded to this
    version's database schema.
    """
    settings = _settings(cli)
    if EmbeddedRedis(settings.redis_dir).is_running():
        raise click.ClickException(
            f"frontdesk is running on {settings.data_dir}: stop it, then restore"
        )
    try:
        restored = restore_backup(
            settings,
            path.expanduser().resolve(),
            force=force,
            known_revisions=known_revisions(),
            migrate=upgrade_sqlite,
            now=system_clock(),
            echo=click.echo,
        )
    except BackupError as exc:
        raise click.ClickException(f"{exc}. Nothing was changed.") from None
    click.echo(f"Restored into {settings.data_dir}: {', '.join(restored.parts) or 'nothing'}.")
    if restored.previous is not None:
        click.echo(f"The data it replaced is in {restored.previous}; delete it when all is well.")
    for note in restored.notes:
        click.echo(note)
    if settings.database_url and "database" not in restored.manifest.included:
        click.echo(
            "Restore the database from its dump, e.g. "
            + pg_restore_command(settings.sqlalchemy_url)
            + ", then run `frontdesk db upgrade`."
        )


# -- privacy requests ----------------------------------------------------------------------

workspace_option = click.option(
    "--workspace", "workspace_name", default=None, help="Workspace name or id (if several)."
)


@click.group()
def contacts() -> None:
    """Privacy requests: export a contact's data, or delete it."""


@contacts.command("export")
@click.argument("contact_id", type=int)
@workspace_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON to this file (default: print it).",
)
@pass_cli
def export_contact(
    cli: CliContext, contact_id: int, workspace_name: str | None, out: Path | None
) -> None:
    """Everything stored about one contact, as JSON (their conversations and messages,
    attachments' details, appointments, notifications, SMS opt-out)."""
    workspace = cli.workspace(workspace_name)
    fd = None
    if out is not None:  # claimed first: an export refused here is not in the audit log
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise click.ClickException(f"{out} already exists: choose another name") from None
        except OSError as exc:
            raise click.ClickException(f"{out} cannot be written: {exc.strerror}") from None
    try:
        document = cli.container.privacy.export(workspace.id, contact_id, actor=CLI_ACTOR)
    except FrontdeskError as exc:
        if fd is not None and out is not None:
            os.close(fd)
            out.unlink()
        raise click.ClickException(str(exc)) from None
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fd is None:
        click.echo(text, nl=False)
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"Contact #{contact_id}'s data written to {out}.", err=True)


@contacts.command("delete")
@click.argument("contact_id", type=int)
@workspace_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def delete_contact(cli: CliContext, contact_id: int, workspace_name: str | None, yes: bool) -> None:
    """Delete a contact and all their data: conversations, messages, appointments,
    notifications about them, attached files and the AI's memory of them. Cannot be undone."""
    workspace = cli.workspace(workspace_name)
    privacy = cli.container.privacy
    try:
        found = privacy.preview(workspace.id, contact_id)
        if not yes:
            click.confirm(
                f"Delete contact #{contact_id} of {workspace.name!r} with "
                f"{found.conversations} conversation(s), {found.messages} message(s), "
                f"{found.appointments} appointment(s) and {found.files} file(s)? "
                "This cannot be undone",
                abort=True,
            )
        removed = privacy.delete(workspace.id, contact_id, actor=CLI_ACTOR)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Deleted contact #{contact_id}: {removed.conversations} conversation(s), "
        f"{removed.messages} message(s), {removed.appointments} appointment(s), "
        f"{removed.notifications} notification(s), {removed.files} file(s)."
    )
    if removed.files_missing:
        click.echo(f"{removed.files_missing} file(s) were already gone.")
    if removed.recordings:
        click.echo(
            "Call recordings stay with Twilio; delete them there: " + ", ".join(removed.recordings)
        )
