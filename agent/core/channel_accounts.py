"""Channel accounts: which provider account (an address, a Page, a number) is whose.

One provider account belongs to exactly one workspace (unique on channel and external
id, across workspaces), so an inbound webhook or mail is routed by it alone. Credentials
are sealed by a ``SecretBox`` before they are stored and only ever shown masked.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.core import validation
from agent.core.channel_policy import AUTO_REPLY, may_auto_reply, rules
from agent.core.errors import Conflict, ValidationError
from agent.core.models import Channel, ChannelAccount, ChannelAccountStatus
from agent.core.ports import Clock, SecretBox, UnitOfWorkFactory, WorkspaceScope

# Channels an admin can connect today; the others' cards say "not available yet" until
# their provider issue lands (Messenger/Instagram, WhatsApp, Twilio).
CONNECTABLE = frozenset(c.value for c in Channel if c != Channel.WEBCHAT)
META = (Channel.MESSENGER.value, Channel.INSTAGRAM.value)  # one Meta app, one webhook
# The credentials a Meta account is connected with (the app secret checks webhooks, the
# verify token answers Meta's subscription handshake).
META_CREDENTIALS = ("access_token", "app_secret", "verify_token")
META_WEBHOOK_PATH = "/channels/meta/webhook"  # what the admin pastes into the Meta app
WHATSAPP_WEBHOOK_PATH = "/channels/whatsapp/webhook"
WABA_ID = "waba_id"  # WhatsApp account settings: the business account, its number, its cap
DISPLAY_NUMBER = "display_number"
TIER = "tier"  # business-initiated conversations allowed per moving 24 hours
DEFAULT_TIER = 250
# Twilio: one number for SMS and calls; its webhooks, and how calls are handled.
TWILIO_PATHS = {
    "sms": "/channels/twilio/sms",
    "status": "/channels/twilio/status",
    "voice": "/channels/twilio/voice",
}
CALLS = ("end", "forward", "ai")  # when a call comes in: end it, forward it, the AI answers
TEXT_BACK = ("never", "always", "missed")  # an SMS to the caller after the call
# (A hyphen, not the dash: a dash is not GSM-7 and would halve what one SMS holds.)
DEFAULT_TEXT_BACK = "Sorry we missed your call! How can we help? - {business}"
PUBLIC_ADDRESS = "public_address"
# The latest "confirm forwarding" mail (Gmail, Outlook) that reached the inbound address:
# {"provider", "code", "link", "requested_by", "received_at"}, shown on the email card.
FORWARDING_CONFIRMATION = "forwarding_confirmation"
# The latest problem a provider reported that is not the account's fault, such as a
# customer Meta says is unavailable: {"text", "at"}, shown on the card.
LAST_NOTICE = "last_notice"
NOT_CONNECTED = "not_connected"
ROUTE_SECONDS = 5.0  # how long ``route`` remembers whose account an id is
_MASK = "••••"


def mask(secret: str) -> str:
    """``••••abcd``: enough to recognise a secret, never enough to use it."""
    secret = str(secret)
    return _MASK + secret[-4:] if len(secret) >= 12 else _MASK


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return slug or "inbox"


@dataclass(frozen=True)
class ChannelState:
    """A channel as the settings page and ``frontdesk channels list`` show it."""

    channel: str
    label: str
    connectable: bool
    state: str  # not_connected | connected | error
    external_id: str = ""
    last_error: str = ""
    ai_auto_reply: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)  # masked

    @property
    def connected(self) -> bool:
        return self.state == ChannelAccountStatus.CONNECTED

    def as_dict(self) -> dict[str, Any]:
        """The channel as plain data (credentials masked): what ``frontdesk channels list
        --json`` prints and what the settings card starts from."""
        row: dict[str, Any] = {
            "channel": self.channel,
            "label": self.label,
            "state": self.state,
            "connectable": self.connectable,
            "external_id": self.external_id,
            "last_error": self.last_error,
            "ai_auto_reply": self.ai_auto_reply,
            "credentials": dict(self.credentials),
        }
        if self.channel == Channel.WHATSAPP:
            row["phone_number_id"] = self.external_id
            row["waba_id"] = str(self.settings.get(WABA_ID) or "")
            row["display_number"] = str(self.settings.get(DISPLAY_NUMBER) or "")
            row["tier"] = int(self.settings.get(TIER) or DEFAULT_TIER)
        if self.channel == Channel.SMS:
            row["number"] = self.external_id
            row["a2p_registered"] = bool(self.settings.get("a2p_registered"))
            row["daily_segments"] = int(self.settings.get("daily_segments") or 1000)
        if self.channel == Channel.PHONE:
            row["number"] = self.external_id
            for key in ("calls", "forward_to", "text_back", "text_back_template", "end_message"):
                row[key] = str(self.settings.get(key) or "")
        notice = self.settings.get(LAST_NOTICE)
        row["last_notice"] = dict(notice) if isinstance(notice, Mapping) else None
        if self.channel == Channel.EMAIL:
            row["inbound_address"] = self.external_id
            row["public_address"] = str(self.settings.get(PUBLIC_ADDRESS) or "")
            confirmation = self.settings.get(FORWARDING_CONFIRMATION)
            row["forwarding_confirmation"] = (
                dict(confirmation) if isinstance(confirmation, Mapping) else None
            )
        return row


class ChannelAccountService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, box: SecretBox, *, email_domain: str = ""
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box
        self._email_domain = email_domain.strip().lower().lstrip("@")
        self._routes: dict[tuple[str, str], tuple[ChannelAccount | None, float]] = {}

    # -- reading -----------------------------------------------------------------------

    def states(self, workspace_id: int) -> list[ChannelState]:
        """Every channel but web chat (always there), connected or not."""
        with self._uow(read_only=True) as uow:
            accounts = {a.channel: a for a in uow.workspace(workspace_id).channel_accounts.all()}
        found = []
        for channel in Channel:
            if channel == Channel.WEBCHAT:
                continue
            account = accounts.get(channel.value)
            base = ChannelState(
                channel=channel.value,
                label=rules(channel).label,
                connectable=channel.value in CONNECTABLE,
                state=NOT_CONNECTED,
            )
            if account is not None:
                base = ChannelState(
                    channel=channel.value,
                    label=base.label,
                    connectable=base.connectable,
                    state=str(account.status),
                    external_id=account.external_id,
                    last_error=account.last_error,
                    ai_auto_reply=may_auto_reply(account.channel, account.settings),
                    settings=dict(account.settings),
                    credentials={k: mask(v) for k, v in self.credentials(account).items()},
                )
            found.append(base)
        return found

    def connected(self, workspace_id: int) -> frozenset[str]:
        """Channels whose account works: what the inbox's "send via" offers."""
        with self._uow(read_only=True) as uow:
            accounts = uow.workspace(workspace_id).channel_accounts.all()
        return frozenset(a.channel for a in accounts if a.status == ChannelAccountStatus.CONNECTED)

    def account(self, workspace_id: int, channel: str) -> ChannelAccount | None:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).channel_accounts.for_channel(channel)

    def route(self, channel: str, external_id: str) -> ChannelAccount | None:
        """Whose account this is (webhooks and inbound mail): None when nobody's.

        Every webhook asks, so an answer is remembered for ``ROUTE_SECONDS`` (forgotten at
        once when this process changes an account; another process's change shows after
        that long)."""
        key, now = (channel, external_id.strip().lower()), time.monotonic()
        found = self._routes.get(key)
        if found is not None and found[1] > now:
            return found[0]
        with self._uow(read_only=True) as uow:
            account = uow.channel_account(*key)
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[key] = (account, now + ROUTE_SECONDS)
        return account

    def credentials(self, account: ChannelAccount) -> dict[str, Any]:
        """The account's secrets, opened; for sender adapters only, never for display."""
        if not account.credentials:
            return {}
        return dict(json.loads(self._box.open(account.credentials)))

    # -- changing ----------------------------------------------------------------------

    def connect(
        self,
        workspace_id: int,
        channel: str,
        external_id: str,
        *,
        credentials: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> ChannelAccount:
        """Link a provider account to the workspace (replacing its previous one on that
        channel). Refused when the account already belongs to another workspace."""
        rules(channel)  # a known channel
        channel = Channel(channel).value
        self._routes.clear()
        if channel == Channel.WEBCHAT:
            raise ValidationError("channel", "web chat is always connected")
        external_id = validation.name(external_id, "external_id", 320, required=True).lower()
        now = self._clock()
        with self._uow() as uow:
            taken = uow.channel_account(channel, external_id)
            if taken is not None and taken.workspace_id != workspace_id:
                raise Conflict(f"{external_id} is already connected to another workspace")
            repo = uow.workspace(workspace_id)
            repo.workspace(for_update=True)  # one change of a workspace's channels at a time
            account = repo.channel_accounts.for_channel(channel)
            if account is not None and account.external_id != external_id:
                repo.delete(account)
                repo.flush()
                account = None
            if account is None:
                account = ChannelAccount(
                    workspace_id=workspace_id,
                    channel=channel,
                    external_id=external_id,
                    settings={AUTO_REPLY: True},
                    created_at=now,
                )
                repo.add(account)
            account.status = ChannelAccountStatus.CONNECTED
            account.last_error = ""
            account.settings = {**account.settings, **dict(settings or {})}
            if credentials is not None:
                sealed = json.dumps(dict(credentials), sort_keys=True)
                account.credentials = self._box.seal(sealed) if credentials else ""
            account.updated_at = now
            repo.flush()
            uow.commit()
        return account

    def connect_email(self, workspace_id: int, public_address: str = "") -> ChannelAccount:
        """Give the workspace its inbound address on ``FRONTDESK_EMAIL_DOMAIN`` (kept when
        already connected); ``public_address`` is the sender identity customers know."""
        if not self._email_domain:
            raise ValidationError(
                "FRONTDESK_EMAIL_DOMAIN", "set the domain inbound mail arrives on first"
            )
        public = validation.email(public_address, "address") if public_address.strip() else ""
        existing = self.account(workspace_id, Channel.EMAIL)
        if existing is not None:
            address = existing.external_id
        else:
            with self._uow(read_only=True) as uow:
                name = uow.workspace(workspace_id).workspace().name
            address = f"{_slug(name)}-{secrets.token_hex(3)}@{self._email_domain}"
        return self.connect(workspace_id, Channel.EMAIL, address, settings={PUBLIC_ADDRESS: public})

    def connect_meta(
        self,
        workspace_id: int,
        channel: str,
        account_id: str,
        *,
        access_token: str,
        app_secret: str,
        verify_token: str,
    ) -> ChannelAccount:
        """Connect a Facebook Page (Messenger) or an Instagram professional account, by
        the ids and tokens from the Meta app (the manual path; OAuth is documented)."""
        if channel not in META:
            raise ValidationError("channel", f"{channel!r} is not a Meta channel")
        what = "Page id" if channel == Channel.MESSENGER else "Instagram account id"
        account_id = validation.as_text(account_id, "account_id").strip()
        if not re.fullmatch(r"[0-9]{1,30}", account_id):
            raise ValidationError("account_id", f"the {what} is a number (from the Meta app)")
        found = self._meta_credentials(access_token, app_secret, verify_token)
        return self.connect(workspace_id, channel, account_id, credentials=found)

    @staticmethod
    def _meta_credentials(access_token: str, app_secret: str, verify_token: str) -> dict[str, str]:
        values = {"access_token": access_token, "app_secret": app_secret}
        values["verify_token"] = verify_token
        found = {}
        for name, value in values.items():
            value = validation.as_text(value, name).strip()
            if not re.fullmatch(r"[\x21-\x7e]{8,1000}", value):
                label = name.replace("_", " ")
                raise ValidationError(name, f"the {label} is 8 or more characters, no spaces")
            found[name] = value
        return found

    def connect_whatsapp(
        self,
        workspace_id: int,
        *,
        phone_number_id: str,
        waba_id: str,
        display_number: str,
        access_token: str,
        app_secret: str,
        verify_token: str,
        tier: int = DEFAULT_TIER,
    ) -> ChannelAccount:
        """Connect a WhatsApp Business number (Cloud API), by the ids and tokens from the
        Meta app; inbound webhooks are routed by the phone number id."""
        ids = {"phone_number_id": phone_number_id, "waba_id": waba_id}
        for name, value in ids.items():
            ids[name] = validation.as_text(value, name).strip()
            if not re.fullmatch(r"[0-9]{1,30}", ids[name]):
                label = name.replace("_", " ").replace("waba", "WhatsApp Business Account")
                raise ValidationError(name, f"the {label} is a number (from the Meta app)")
        with self._uow(read_only=True) as uow:
            country = uow.workspace(workspace_id).workspace().country
        number = validation.phone(display_number, country, "display_number")
        if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= 1_000_000:
            raise ValidationError("tier", "a whole number of conversations, 1 or more")
        credentials = self._meta_credentials(access_token, app_secret, verify_token)
        settings = {WABA_ID: ids["waba_id"], DISPLAY_NUMBER: number, TIER: tier}
        return self.connect(
            workspace_id,
            Channel.WHATSAPP,
            ids["phone_number_id"],
            credentials=credentials,
            settings=settings,
        )

    def connect_twilio(
        self,
        workspace_id: int,
        *,
        account_sid: str,
        auth_token: str,
        number: str,
        calls: str = "end",
        forward_to: str = "",
        text_back: str = "missed",
        text_back_template: str = "",
        end_message: str = "",
        a2p_registered: bool = False,
        daily_segments: int = 1000,
    ) -> tuple[ChannelAccount, ChannelAccount]:
        """Connect a Twilio number for both SMS and calls (one account each, the same
        number and credentials); inbound webhooks are routed by the number."""
        sid = validation.as_text(account_sid, "account_sid").strip()
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise ValidationError("account_sid", "the Account SID is AC and 32 hex digits")
        token = validation.as_text(auth_token, "auth_token").strip()
        if not re.fullmatch(r"[0-9A-Za-z]{16,64}", token):
            raise ValidationError("auth_token", "the auth token is 32 letters and digits")
        number = validation.phone(number, self._country(workspace_id), "number")
        sms_settings = self._sms_settings(a2p_registered, daily_segments)
        call_settings = self._call_settings(
            workspace_id, number, calls, forward_to, text_back, text_back_template, end_message
        )
        credentials = {"account_sid": sid, "auth_token": token}
        sms = self.connect(
            workspace_id, Channel.SMS, number, credentials=credentials, settings=sms_settings
        )
        phone = self.connect(
            workspace_id, Channel.PHONE, number, credentials=credentials, settings=call_settings
        )
        return sms, phone

    def configure_sms(
        self, workspace_id: int, *, a2p_registered: bool, daily_segments: int
    ) -> ChannelAccount:
        return self._change(
            workspace_id, Channel.SMS, settings=self._sms_settings(a2p_registered, daily_segments)
        )

    def configure_calls(
        self,
        workspace_id: int,
        *,
        calls: str,
        forward_to: str = "",
        text_back: str = "missed",
        text_back_template: str = "",
        end_message: str = "",
    ) -> ChannelAccount:
        """How the number's calls are handled, and the text after them."""
        account = self.account(workspace_id, Channel.PHONE)
        if account is None:
            raise ValidationError("channel", "connect a Twilio number first")
        values = self._call_settings(
            workspace_id,
            account.external_id,
            calls,
            forward_to,
            text_back,
            text_back_template,
            end_message,
        )
        return self._change(workspace_id, Channel.PHONE, settings=values)

    def _country(self, workspace_id: int) -> str:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).workspace().country

    @staticmethod
    def _sms_settings(a2p_registered: bool, daily_segments: int) -> dict[str, Any]:
        if not isinstance(daily_segments, int) or not 1 <= daily_segments <= 1_000_000:
            raise ValidationError("daily_segments", "a whole number of segments, 1 or more")
        return {"a2p_registered": bool(a2p_registered), "daily_segments": daily_segments}

    def _call_settings(
        self,
        workspace_id: int,
        number: str,
        calls: str,
        forward_to: str,
        text_back: str,
        text_back_template: str,
        end_message: str,
    ) -> dict[str, Any]:
        if calls not in CALLS:
            raise ValidationError("calls", f"choose one of {', '.join(CALLS)}")
        if text_back not in TEXT_BACK:
            raise ValidationError("text_back", f"choose one of {', '.join(TEXT_BACK)}")
        country = self._country(workspace_id)
        forward = validation.phone(forward_to, country, "forward_to") if forward_to.strip() else ""
        if calls == "forward" and not forward:
            raise ValidationError("forward_to", "give the number calls are forwarded to")
        if forward == number:
            raise ValidationError("forward_to", "forward to another number than this one")
        template = validation.name(text_back_template, "text_back_template", 320)
        return {
            "calls": calls,
            "forward_to": forward,
            "text_back": text_back,
            "text_back_template": template or DEFAULT_TEXT_BACK,
            "end_message": validation.name(end_message, "end_message", 500),
        }

    def whatsapp_by_waba(self, waba_id: str) -> list[ChannelAccount]:
        """The WhatsApp accounts of a business account (template webhooks name only it)."""
        with self._uow(read_only=True) as uow:
            accounts = uow.channel_accounts([Channel.WHATSAPP.value])
        return [a for a in accounts if str(a.settings.get(WABA_ID) or "") == str(waba_id)]

    def verify_token_matches(self, token: str, channels: tuple[str, ...] = META) -> bool:
        """Whether any account on these channels was connected with this verify token
        (Meta's subscription handshake names no account). Constant-time per account."""
        token = str(token or "")
        if not token:
            return False
        with self._uow(read_only=True) as uow:
            accounts = uow.channel_accounts(channels)
        matched = False
        for account in accounts:
            expected = str(self.credentials(account).get("verify_token") or "")
            matched |= bool(expected) and hmac.compare_digest(expected.encode(), token.encode())
        return matched

    def app_secrets(self, channel: str, external_ids: list[str]) -> list[str]:
        """The app secrets of the accounts a webhook names (unknown ids give none)."""
        found = []
        for external_id in external_ids[:20]:
            account = self.route(channel, external_id)
            secret = str(self.credentials(account).get("app_secret") or "") if account else ""
            if secret and secret not in found:
                found.append(secret)
        return found

    def disconnect(self, workspace_id: int, channel: str) -> bool:
        """Forget the channel's account (and its credentials); False when none was there."""
        self._routes.clear()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            account = repo.channel_accounts.for_channel(channel)
            if account is None:
                return False
            repo.delete(account)
            uow.commit()
        return True

    def update_settings(
        self, workspace_id: int, channel: str, values: Mapping[str, Any]
    ) -> ChannelAccount:
        """Merge ``values`` into the account's settings (what a provider learned, such as
        a forwarding confirmation); refused when the channel is not connected."""
        return self._change(workspace_id, channel, settings=validation.clean_data(dict(values)))

    def set_auto_reply(self, workspace_id: int, channel: str, enabled: bool) -> ChannelAccount:
        return self._change(workspace_id, channel, settings={AUTO_REPLY: bool(enabled)})

    def notice(self, workspace_id: int, channel: str, text: str) -> None:
        """Keep a provider's report for the channel card, without marking the account."""
        if self.account(workspace_id, channel) is None:
            return
        found = {"text": text[:500], "at": self._clock().isoformat()}
        self._change(workspace_id, channel, settings={LAST_NOTICE: found})

    def mark(self, workspace_id: int, channel: str, error: str = "") -> None:
        """Record that the account failed (``error``) or works again (no error)."""
        if self.account(workspace_id, channel) is None:
            return
        status = ChannelAccountStatus.ERROR if error else ChannelAccountStatus.CONNECTED
        self._change(workspace_id, channel, status=status, last_error=error[:2000])

    def _change(
        self,
        workspace_id: int,
        channel: str,
        *,
        settings: Mapping[str, Any] | None = None,
        status: ChannelAccountStatus | None = None,
        last_error: str | None = None,
    ) -> ChannelAccount:
        self._routes.clear()
        with self._uow() as uow:
            account = uow.workspace(workspace_id).channel_accounts.for_channel(channel)
            if account is None:
                raise ValidationError("channel", f"{rules(channel).label} is not connected")
            if settings:
                account.settings = {**account.settings, **dict(settings)}
            if status is not None:
                account.status = status
            if last_error is not None:
                account.last_error = last_error
            account.updated_at = self._clock()
            uow.commit()
        return account


def inbound_address(account: ChannelAccount | None) -> str:
    """Where mail for the workspace arrives (its email account's external id)."""
    if account is None or account.channel != Channel.EMAIL:
        return ""
    return account.external_id


def ai_may_answer(repo: WorkspaceScope, channel: str) -> bool:
    """The channel policy's auto-reply rule, for the workspace's account on ``channel``."""
    if channel == Channel.WEBCHAT:
        return True
    account = repo.channel_accounts.for_channel(channel)
    return may_auto_reply(channel, account.settings if account is not None else None)
