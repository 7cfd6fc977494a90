"""Workspaces (the business profile) and their team members."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from agent.core import validation
from agent.core.errors import Conflict, ValidationError
from agent.core.events import EventBus, ProfileChanged
from agent.core.models import Role, TeamMember, Workspace
from agent.core.ports import Clock, UnitOfWorkFactory

WIDGET_DEFAULTS: dict[str, Any] = {
    "greeting": "Hi there! How can we help?",
    "initial_message": "Hello! I'm the virtual receptionist. Ask me anything or book a visit.",
    "primary_color": "#2563EB",
    "accent_color": "#1E40AF",
    "text_color": "#FFFFFF",
    "position": "right",
    "mobile_popup": True,
    "allowed_origins": [],
    "away_message": "",  # sent once per conversation after hours (agent.core.after_hours)
}
_PROFILE_FIELDS = (
    "name",
    "timezone",
    "country",
    "address",
    "phone",
    "email",
    "hours",
    "services",
    "appointment_minutes",
    "links",
    "instructions",
    "widget",
)


def clean_profile(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate business-profile fields; unknown keys are an error, not silently dropped."""
    unknown = sorted(set(values) - set(_PROFILE_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "is not a business profile field")
    if not partial and not values.get("name"):
        raise ValidationError("name", "is required")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "name":
            out[key] = validation.name(value, "name", 120, required=True)
        elif key == "timezone":
            out[key] = validation.timezone(value)
        elif key == "country":
            out[key] = validation.country(value)
        elif key == "hours":
            out[key] = validation.opening_hours(value)
        elif key == "links":
            out[key] = validation.links(value)
        elif key == "services":
            out[key] = [validation.name(s, "services", 200) for s in value or [] if str(s).strip()]
        elif key == "appointment_minutes":
            out[key] = _appointment_minutes(value)
        elif key == "email":
            out[key] = validation.email(value) if value else ""
        elif key == "widget":
            out[key] = clean_widget(value)
        elif key == "instructions":
            out[key] = str(value or "").strip()
            if len(out[key]) > 20_000:
                raise ValidationError("instructions", "must be at most 20,000 characters")
        else:
            out[key] = validation.name(value, key, 500)
    if out.get("phone"):
        out["phone"] = validation.phone(out["phone"], out.get("country", "US"))
    return out


def _appointment_minutes(value: Any) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValidationError("appointment_minutes", f"{value!r} is not a number") from None
    if not 5 <= minutes <= 8 * 60:
        raise ValidationError("appointment_minutes", "must be between 5 and 480 minutes")
    return minutes


_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def clean_widget(values: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(values or {})
    unknown = sorted(set(values) - set(WIDGET_DEFAULTS))
    if unknown:
        raise ValidationError(f"widget.{unknown[0]}", "is not a widget setting")
    widget = {**WIDGET_DEFAULTS, **values}
    for key in ("greeting", "initial_message", "away_message"):
        if not isinstance(widget[key], str):
            raise ValidationError(f"widget.{key}", "must be text")
        widget[key] = widget[key].strip()
    for key in ("primary_color", "accent_color", "text_color"):
        colour = widget[key]
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour.strip()):
            raise ValidationError(f"widget.{key}", "must be a colour like #2563EB")
        widget[key] = colour.strip()
    if not isinstance(widget["mobile_popup"], bool):
        raise ValidationError("widget.mobile_popup", "must be true or false")
    if len(widget["greeting"]) > 70:
        raise ValidationError("widget.greeting", "must be at most 70 characters")
    if len(widget["initial_message"]) > 600:
        raise ValidationError("widget.initial_message", "must be at most 600 characters")
    if len(widget["away_message"]) > 600:
        raise ValidationError("widget.away_message", "must be at most 600 characters")
    if widget["position"] not in ("left", "right"):
        raise ValidationError("widget.position", "must be left or right")
    widget["allowed_origins"] = validation.origins(
        widget["allowed_origins"], "widget.allowed_origins"
    )
    return widget


@dataclass(frozen=True)
class NewMember:
    name: str
    email: str
    password: str
    role: str = Role.STAFF.value


def _new_member(workspace: Workspace, new: NewMember, now: datetime) -> TeamMember:
    """Validate and hash before anything is stored."""
    try:
        role = Role(new.role)
    except ValueError:
        raise ValidationError("role", f"{new.role!r} is not a role (admin or staff)") from None
    email = validation.email(new.email)
    validation.password(new.password, email=email, workspace=workspace.name)
    return TeamMember(
        workspace_id=workspace.id or 0,
        name=validation.name(new.name, "name", 120) or email.split("@")[0],
        email=email,
        role=role,
        password_hash=generate_password_hash(new.password),
        created_at=now,
    )


class WorkspaceService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, events: EventBus | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events or EventBus()

    def create(self, profile: Mapping[str, Any], admin: NewMember | None = None) -> Workspace:
        """Create a workspace (and its first admin) in one transaction: all or nothing."""
        values = clean_profile(profile)
        values.setdefault("widget", clean_widget({}))
        values.setdefault("hours", validation.opening_hours({}))
        now = self._clock()
        workspace = Workspace(
            **values, widget_key=secrets.token_urlsafe(12), created_at=now, updated_at=now
        )
        member = _new_member(workspace, admin, now) if admin is not None else None
        with self._uow() as uow:
            uow.add_workspace(workspace)
            if member is not None:
                member.workspace_id = workspace.id
                uow.workspace(workspace.id).add(member)
            uow.commit()
        self._events.publish(ProfileChanged(workspace.id))
        return workspace

    def update_profile(self, workspace_id: int, changes: Mapping[str, Any]) -> Workspace:
        values = clean_profile(changes, partial=True)
        with self._uow() as uow:
            workspace = uow.workspace(workspace_id).workspace()
            if values.get("phone") and "country" not in values:
                values["phone"] = validation.phone(changes["phone"], workspace.country)
            for key, value in values.items():
                setattr(workspace, key, value)
            workspace.updated_at = self._clock()
            uow.commit()
        self._events.publish(ProfileChanged(workspace_id))
        return workspace

    def find(self, name: str) -> Workspace | None:
        with self._uow() as uow:
            return next((w for w in uow.workspaces() if w.name == name), None)

    def all(self) -> list[Workspace]:
        with self._uow() as uow:
            return list(uow.workspaces())

    def add_member(self, workspace_id: int, new: NewMember) -> TeamMember:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            workspace = repo.workspace()
            member = _new_member(workspace, new, self._clock())
            if repo.team.by_email(member.email) is not None:
                raise Conflict(f"{member.email} is already a member of {workspace.name}")
            repo.add(member)
            uow.commit()
        return member

    def authenticate(self, workspace_id: int, email: str, password: str) -> TeamMember | None:
        with self._uow() as uow:
            member = uow.workspace(workspace_id).team.by_email(email.strip().lower())
        if member is not None and check_password_hash(member.password_hash, password):
            return member
        return None
