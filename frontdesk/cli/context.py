"""Shared state for CLI commands: settings loaded once, the container built on first use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

import click

from agent.config import Settings
from agent.core.errors import FrontdeskError
from frontdesk.wiring import Container, build


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
        container.migrate()
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
