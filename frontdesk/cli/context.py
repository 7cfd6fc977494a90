"""Shared state for CLI commands: settings loaded once, the container built on first use."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import click
from sqlalchemy.exc import OperationalError

from agent.config import Settings
from agent.core.errors import FrontdeskError
from frontdesk.wiring import Container, build

DB_WAIT_SECONDS = 30.0  # how long a command waits for an unreachable database


def migrate_when_reachable(
    container: Container,
    wait: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Bring the schema up to date, waiting for a database that is not up yet (a server
    starting beside us) with a line saying so; then a clear error, not a traceback."""
    wait = DB_WAIT_SECONDS if wait is None else wait
    delay, waited = 1.0, 0.0
    while True:
        try:
            container.migrate()
            return
        except OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            where = container.engine.url.render_as_string(hide_password=True)
            if waited >= wait:
                raise click.ClickException(
                    f"the database at {where} is not reachable ({reason}). Check "
                    "DATABASE_URL and that the database server is running."
                ) from None
            click.echo(
                f"The database at {where} is not reachable ({reason}); "
                f"trying again in {delay:.0f} s...",
                err=True,
            )
            (sleep or time.sleep)(delay)
            waited += delay
            delay = min(delay * 2, 8.0)


@dataclass
class CliContext:
    data_dir: str | None = None
    model: str | None = None  # a --model option overriding FRONTDESK_MODEL
    redis_url: str | None = None
    overrides: dict[str, object] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        environ = dict(os.environ)
        if self.data_dir:
            environ["FRONTDESK_DATA_DIR"] = self.data_dir
        if self.model:
            environ["FRONTDESK_MODEL"] = self.model
        try:
            return Settings.load(environ).ensure_data_dir()
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None

    @cached_property
    def container(self) -> Container:
        container = build(self.settings, redis_url=self.redis_url, **self.overrides)
        migrate_when_reachable(container)
        return container

    def workspace(self, name: str | None):  # type: ignore[no-untyped-def]
        """The named workspace, or the only one there is."""
        workspaces = self.container.workspaces.all()
        if name:
            for ws in workspaces:
                if ws.name == name or str(ws.id) == name:
                    return ws
            raise click.ClickException(f"no workspace named {name!r}")
        if not workspaces:
            raise click.ClickException("no workspace yet: run `frontdesk init` or `frontdesk demo`")
        if len(workspaces) > 1:
            names = ", ".join(repr(ws.name) for ws in workspaces)
            raise click.ClickException(f"several workspaces ({names}): pick one with --workspace")
        return workspaces[0]
