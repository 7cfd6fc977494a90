"""Canned replies ("message templates") staff insert from the inbox composer.

Names are unique per workspace, compared without regard to case, so the composer's
picker never shows two entries a person could mistake for each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.core import validation
from agent.core.errors import Conflict, NotFound, ValidationError
from agent.core.models import MessageTemplate
from agent.core.ports import Clock, UnitOfWorkFactory, WorkspaceScope

NAME_LIMIT = 120
BODY_LIMIT = 2_000


def clean(name: str, body: str) -> tuple[str, str]:
    """Validate a template's name and body; returns them normalised."""
    name = validation.name(name, "name", NAME_LIMIT, required=True)
    body = (body or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError("body", "is required")
    if len(body) > BODY_LIMIT:
        raise ValidationError("body", f"is {len(body):,} characters; the limit is {BODY_LIMIT:,}")
    return name, body


def _find(repo: WorkspaceScope, template_id: int) -> MessageTemplate:
    found = next((t for t in repo.templates.all() if t.id == template_id), None)
    if found is None:
        raise NotFound("template", template_id)
    return found


def _check_unique(repo: WorkspaceScope, name: str, except_id: int | None = None) -> None:
    for existing in repo.templates.all():
        if existing.id != except_id and existing.name.casefold() == name.casefold():
            raise Conflict(f"A template named “{existing.name}” already exists.")


class TemplateService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def list(self, workspace_id: int) -> Sequence[MessageTemplate]:
        with self._uow() as uow:
            return list(uow.workspace(workspace_id).templates.all())

    def get(self, workspace_id: int, template_id: int) -> MessageTemplate:
        with self._uow() as uow:
            return _find(uow.workspace(workspace_id), template_id)

    def create(self, workspace_id: int, name: str, body: str) -> MessageTemplate:
        name, body = clean(name, body)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            _check_unique(repo, name)
            template = MessageTemplate(
                workspace_id=workspace_id, name=name, body=body, created_at=self._clock()
            )
            repo.add(template)
            uow.commit()  # the unique constraint still guards a concurrent twin
        return template

    def update(self, workspace_id: int, template_id: int, name: str, body: str) -> MessageTemplate:
        name, body = clean(name, body)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            template = _find(repo, template_id)
            _check_unique(repo, name, except_id=template.id)
            template.name, template.body = name, body
            uow.commit()
        return template

    def delete(self, workspace_id: int, template_id: int) -> None:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            repo.delete(_find(repo, template_id))
            uow.commit()
