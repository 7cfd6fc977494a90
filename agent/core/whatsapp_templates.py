"""WhatsApp message templates: written by admins, approved by Meta, filled in by staff.

Outside the 24-hour window (and to start a conversation) WhatsApp only carries an
approved template. Admins create one (name, category, language, a body with ``{{1}}``
parameters, an optional header and quick-reply buttons) and submit it through the
channel's ``TemplateSubmitter``; Meta's ``message_template_status_update`` webhooks then
move it (PENDING, APPROVED, REJECTED with a reason, PAUSED, DISABLED). Only an APPROVED
template may be sent, with every parameter filled. Rendering and the rules are pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from agent.core import validation
from agent.core.channel_accounts import ChannelAccountService
from agent.core.errors import Conflict, SendError, ValidationError
from agent.core.models import Channel, TemplateStatus, WhatsAppTemplate
from agent.core.ports import Clock, UnitOfWorkFactory

CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
# Offered when the workspace has none: a plain follow-up any business can use.
DEFAULT_TEMPLATE = {
    "name": "enquiry_follow_up",
    "category": "UTILITY",
    "language": "en",
    "body": "Hi {{1}}, this is {{2}} following up on your enquiry.",
}
_PARAMETER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
MAX_BODY = 1024
MAX_HEADER = 60
MAX_BUTTONS = 10
MAX_BUTTON = 25


def parameters(body: str) -> int:
    """How many parameters the body has; they must be numbered 1, 2, ... without gaps."""
    numbers = sorted({int(n) for n in _PARAMETER.findall(body)})
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValidationError("body", "number the parameters {{1}}, {{2}}... with no gaps")
    return len(numbers)


def render(template: WhatsAppTemplate, values: Sequence[str]) -> str:
    """The template's text with its parameters filled (what the customer reads)."""
    found = check_values(template, values)
    text = _PARAMETER.sub(lambda m: found[int(m.group(1)) - 1], template.body)
    return f"{template.header}\n\n{text}" if template.header else text


def check_values(template: WhatsAppTemplate, values: Sequence[str]) -> list[str]:
    """Every parameter filled, on one line (WhatsApp refuses new lines and tabs there)."""
    wanted = parameters(template.body)
    found = [" ".join(validation.as_text(v, "parameter").split()) for v in values]
    if len(found) != wanted or not all(found):
        raise ValidationError("parameters", f"fill in all {wanted} parameters of {template.name}")
    if any(len(v) > 200 for v in found):
        raise ValidationError("parameters", "a parameter is at most 200 characters")
    return found


def validated(values: Mapping[str, Any]) -> dict[str, Any]:
    """A new template's fields, checked by Meta's rules (refused naming the field)."""
    name = validation.as_text(values.get("name", ""), "name").strip().lower()
    if not _NAME.fullmatch(name):
        raise ValidationError("name", "use lowercase letters, digits and underscores")
    category = validation.as_text(values.get("category", ""), "category").strip().upper()
    if category not in CATEGORIES:
        raise ValidationError("category", f"choose one of {', '.join(CATEGORIES)}")
    language = validation.as_text(values.get("language", ""), "language").strip()
    if not _LANGUAGE.fullmatch(language):
        raise ValidationError("language", "a language code such as en, es or en_US")
    body = validation.as_text(values.get("body", ""), "body").strip()
    if not body or len(body) > MAX_BODY:
        raise ValidationError("body", f"write the message (at most {MAX_BODY:,} characters)")
    parameters(body)
    header = " ".join(validation.as_text(values.get("header", ""), "header").split())
    if len(header) > MAX_HEADER or _PARAMETER.search(header):
        raise ValidationError("header", f"at most {MAX_HEADER} characters, no parameters")
    buttons = values.get("buttons") or []
    if isinstance(buttons, str):
        buttons = buttons.splitlines()
    buttons = [" ".join(validation.as_text(b, "buttons").split()) for b in buttons]
    buttons = [b for b in buttons if b]
    if len(buttons) > MAX_BUTTONS or any(len(b) > MAX_BUTTON for b in buttons):
        raise ValidationError(
            "buttons", f"at most {MAX_BUTTONS} quick replies of {MAX_BUTTON} characters"
        )
    return {
        "name": name,
        "category": category,
        "language": language,
        "body": body,
        "header": header,
        "buttons": buttons,
    }


class TemplateSubmitter(Protocol):
    """The channel adapter's side: send a template to Meta for review."""

    def submit(
        self, credentials: Mapping[str, Any], waba_id: str, template: WhatsAppTemplate
    ) -> tuple[str, str]:
        """Returns (Meta's template id, its status); raises ``SendError`` when refused."""
        ...


class WhatsAppTemplateService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        accounts: ChannelAccountService,
        submitter: TemplateSubmitter | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._accounts = accounts
        self._submitter = submitter

    def all(self, workspace_id: int) -> list[WhatsAppTemplate]:
        with self._uow(read_only=True) as uow:
            return list(uow.workspace(workspace_id).whatsapp_templates.all())

    def approved(self, workspace_id: int) -> list[WhatsAppTemplate]:
        return [t for t in self.all(workspace_id) if t.status == TemplateStatus.APPROVED]

    def get(self, workspace_id: int, template_id: int) -> WhatsAppTemplate:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).whatsapp_templates.get(template_id)

    def create(self, workspace_id: int, values: Mapping[str, Any]) -> WhatsAppTemplate:
        """A draft; ``submit`` sends it to Meta for review."""
        fields = validated(values)
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if repo.whatsapp_templates.find(fields["name"], fields["language"]) is not None:
                raise Conflict(f"a template {fields['name']} in {fields['language']} exists")
            template = WhatsAppTemplate(
                workspace_id=workspace_id, created_at=now, updated_at=now, **fields
            )
            repo.add(template)
            uow.commit()
        return template

    def delete(self, workspace_id: int, template_id: int) -> None:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            repo.delete(repo.whatsapp_templates.get(template_id))
            uow.commit()

    def submit(self, workspace_id: int, template_id: int) -> WhatsAppTemplate:
        """Send a draft (or a rejected one, after editing) to Meta for review."""
        account = self._accounts.account(workspace_id, Channel.WHATSAPP)
        if account is None:
            raise ValidationError("channel", "connect WhatsApp before submitting templates")
        if self._submitter is None:
            raise ValidationError("channel", "this server cannot submit WhatsApp templates")
        template = self.get(workspace_id, template_id)
        if template.status not in (TemplateStatus.DRAFT, TemplateStatus.REJECTED):
            raise Conflict(f"{template.name} was already submitted ({template.status})")
        try:
            provider_id, status = self._submitter.submit(
                self._accounts.credentials(account),
                str(account.settings.get("waba_id") or ""),
                template,
            )
        except SendError as exc:
            raise Conflict(f"Meta did not accept the template: {exc.reason}") from None
        return self._set(workspace_id, template_id, status=status, provider_id=provider_id)

    def status_changed(
        self, waba_id: str, name: str, language: str, event: str, reason: str = ""
    ) -> WhatsAppTemplate | None:
        """Meta reviewed a template (its webhook): found by the WABA, name and language."""
        try:
            status = TemplateStatus(str(event).upper())
        except ValueError:
            return None
        for account in self._accounts.whatsapp_by_waba(waba_id):
            with self._uow(read_only=True) as uow:
                found = uow.workspace(account.workspace_id).whatsapp_templates.find(name, language)
            if found is not None:
                reason = "" if str(reason).upper() in ("NONE", "") else str(reason)[:500]
                return self._set(account.workspace_id, found.id, status=status, reason=reason)
        return None

    def _set(self, workspace_id: int, template_id: int, **values: Any) -> WhatsAppTemplate:
        with self._uow() as uow:
            template = uow.workspace(workspace_id).whatsapp_templates.get(template_id)
            for key, value in values.items():
                setattr(template, key, value)
            template.updated_at = self._clock()
            uow.commit()
        return template


def require_approved(template: WhatsAppTemplate) -> None:
    if template.status != TemplateStatus.APPROVED:
        raise Conflict(f"{template.name} is {template.status.lower()}: only approved templates go")
