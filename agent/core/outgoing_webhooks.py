"""Outgoing webhooks: endpoints a workspace's admins add, and each event's delivery.

A committed domain event that is a webhook event (``webhook_payloads.webhook_types``)
becomes one stored delivery per subscribed endpoint, with its JSON body fixed then, and
a job attempts it. A failed attempt (no answer, a non-2xx answer) is tried again with
backoff doubling to an hour, for up to a day; an address that turns out not public is
refused at once. A sweep re-enqueues deliveries whose job was lost with its worker.
Every attempt signs the body afresh (``X-Frontdesk-Signature: t=…,v1=…``).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from agent.core import validation
from agent.core.errors import (
    Conflict,
    FrontdeskError,
    NotFound,
    PermanentSendError,
    TransientSendError,
    ValidationError,
)
from agent.core.events import (
    AppointmentBooked,
    AppointmentCancelled,
    ConversationEvent,
    ConversationUpdated,
    Event,
    LeadCaptured,
    MessageCreated,
)
from agent.core.models import WebhookDelivery, WebhookEndpoint, WebhookStatus
from agent.core.ports import (
    Clock,
    Locks,
    SecretBox,
    UnitOfWorkFactory,
    WebhookDeliveryQueue,
    WebhookPoster,
    WorkspaceScope,
)
from agent.core.recent import PerWorkspace
from agent.core.webhook_payloads import (
    MAX_URL_CHARS,
    PING,
    RETRY_FOR,
    SCHEMA_VERSION,
    SIGNATURE_HEADER,
    VERSION_HEADER,
    appointment_data,
    contact_data,
    conversation_data,
    envelope,
    event_types,
    message_data,
    retry_delay,
    signature_header,
    webhook_types,
)

log = logging.getLogger(__name__)
SUBSCRIPTIONS_TTL = 5.0  # seconds a process trusts its list of the events endpoints want
LOST_AFTER = timedelta(minutes=5)  # a delivery this late past its due time lost its job
EARLY = timedelta(seconds=5)  # a job may run this much before its delivery is due
# The domain events that can be webhooks: a process subscribes ``on_event`` to each.
SOURCES: tuple[type[Event], ...] = (
    MessageCreated,
    ConversationUpdated,
    LeadCaptured,
    AppointmentBooked,
    AppointmentCancelled,
)


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"  # not pending, or not due yet


def _event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        box: SecretBox,
        poster: WebhookPoster,
        queue: WebhookDeliveryQueue | None,
        *,
        locks: Locks | None = None,
        wait: Callable[[int], float] = retry_delay,
        retry_for: timedelta = RETRY_FOR,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box
        self._poster = poster
        self._queue = queue
        self._locks = locks  # one attempt of a delivery at a time, across workers
        self._wait = wait
        self._retry_for = retry_for
        # The events some active endpoint wants, per workspace: most events are wanted by
        # none, and then cost no database read (an endpoint added elsewhere is seen within
        # SUBSCRIPTIONS_TTL seconds).
        self._wanted = PerWorkspace(self._load_wanted, SUBSCRIPTIONS_TTL, monotonic)

    # -- endpoints ------------------------------------------------------------------------

    def add(
        self, workspace_id: int, url: str, events: str | Iterable[str]
    ) -> tuple[WebhookEndpoint, str]:
        """Add an endpoint; returns it with its signing secret (shown this once)."""
        url = validation.clean_text(str(url or "")).strip()
        if not url:
            raise ValidationError("url", "enter the address to send webhooks to")
        if len(url) > MAX_URL_CHARS:
            raise ValidationError("url", f"is longer than {MAX_URL_CHARS} characters")
        chosen = event_types(events)
        refusal = self._poster.refusal(url)
        if refusal:
            raise ValidationError("url", refusal)
        secret = _new_secret()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            endpoint = WebhookEndpoint(
                workspace_id=workspace_id,
                url=url,
                events=chosen,
                secret=self._box.seal(secret),
                created_at=self._clock(),
            )
            repo.add(endpoint)
            repo.flush()
            uow.commit()
        self._wanted.forget(workspace_id)
        return endpoint, secret

    def endpoints(self, workspace_id: int) -> list[WebhookEndpoint]:
        with self._uow(read_only=True) as uow:
            return list(uow.workspace(workspace_id).webhook_endpoints.all())

    def endpoint(self, workspace_id: int, endpoint_id: int) -> WebhookEndpoint:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).webhook_endpoints.get(endpoint_id)

    def remove(self, workspace_id: int, endpoint_id: int) -> None:
        """Remove an endpoint and its delivery log; pending retries end with it."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            endpoint = repo.webhook_endpoints.get(endpoint_id)
            repo.webhook_deliveries.delete_for_endpoint(endpoint.id)
            repo.delete(endpoint)
            uow.commit()
        self._wanted.forget(workspace_id)

    def deliveries(
        self, workspace_id: int, endpoint_id: int, *, limit: int = 100
    ) -> list[WebhookDelivery]:
        """The endpoint's delivery log, newest first."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            endpoint = repo.webhook_endpoints.get(endpoint_id)
            return list(repo.webhook_deliveries.for_endpoint(endpoint.id, limit=limit))

    def _load_wanted(self, workspace_id: int) -> frozenset[str]:
        with self._uow(read_only=True) as uow:
            endpoints = uow.workspace(workspace_id).webhook_endpoints.all()
            return frozenset(t for e in endpoints if e.active for t in e.events or [])

    # -- events in, deliveries out --------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """The bus handler: each webhook event this domain event is, to its endpoints."""
        wanted = self._wanted.get(event.workspace_id)
        for event_type in webhook_types(event):
            if event_type not in wanted:
                continue
            self.publish(
                event.workspace_id, event_type, lambda repo, t=event_type: _data(repo, event, t)
            )

    def publish(
        self,
        workspace_id: int,
        event_type: str,
        data: Callable[[WorkspaceScope], dict[str, Any]] | dict[str, Any],
        *,
        endpoint_ids: list[int] | None = None,
    ) -> list[int]:
        """Queue one event to every endpoint subscribed to it (or to ``endpoint_ids``,
        whatever they subscribe to: an automation's "POST a webhook"); the delivery ids.
        ``data`` may be a function of the workspace's records, read only when some
        endpoint wants the event."""
        now = self._clock()
        # Read first (most events have no endpoint): SQLite's writers take turns.
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            if endpoint_ids is None:
                targets = [e.id for e in repo.webhook_endpoints.subscribed(event_type)]
            else:
                targets = [repo.webhook_endpoints.get(i).id for i in endpoint_ids]
            if not targets:
                return []
            event_id = _event_id()
            payload = data(repo) if callable(data) else data
            body = envelope(event_id, event_type, now, _workspace(repo), payload)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            ids = [
                self._record(repo, endpoint_id, event_id, event_type, body, now).id
                for endpoint_id in targets
            ]
            uow.commit()
        for delivery_id in ids:
            self._enqueue(workspace_id, delivery_id)
        return ids

    def test(self, workspace_id: int, endpoint_id: int) -> WebhookDelivery:
        """Send a signed ``ping`` to the endpoint right now (no retries): the delivery,
        with the response code or the error."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            endpoint = repo.webhook_endpoints.get(endpoint_id)
            data = {"endpoint": {"id": endpoint.id, "url": endpoint.url}, "message": "pong?"}
            event_id = _event_id()
            body = envelope(event_id, PING, now, _workspace(repo), data)
            delivery_id = self._record(repo, endpoint.id, event_id, PING, body, now).id
            uow.commit()
        self.attempt(workspace_id, delivery_id, retry=False)
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).webhook_deliveries.get(delivery_id)

    def resend(
        self, workspace_id: int, delivery_id: int, *, endpoint_id: int | None = None
    ) -> WebhookDelivery:
        """Send a logged delivery again, as a new delivery with the same event (same id,
        so a receiver can tell it has seen it); it is retried like any other."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            old = repo.webhook_deliveries.get(delivery_id)
            if endpoint_id is not None and old.endpoint_id != endpoint_id:
                raise NotFound("delivery", delivery_id)
            endpoint = repo.webhook_endpoints.get(old.endpoint_id)
            if old.status == WebhookStatus.PENDING:
                raise Conflict("this delivery is still being tried: wait for its outcome")
            delivery = self._record(repo, endpoint.id, old.event_id, old.event_type, old.body, now)
            uow.commit()
        self._enqueue(workspace_id, delivery.id)
        return delivery

    # -- the job --------------------------------------------------------------------------

    def attempt(self, workspace_id: int, delivery_id: int, *, retry: bool = True) -> AttemptOutcome:
        """POST one pending delivery (what the job does). Safe to run twice: a delivery no
        longer pending, or not due yet, is skipped, and two jobs for one take turns."""
        if self._locks is None:
            return self._attempt(workspace_id, delivery_id, retry)
        with self._locks.hold(f"webhook-delivery:{delivery_id}"):
            return self._attempt(workspace_id, delivery_id, retry)

    def _attempt(self, workspace_id: int, delivery_id: int, retry: bool) -> AttemptOutcome:
        now = self._clock()
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            try:
                delivery = repo.webhook_deliveries.get(delivery_id)
                endpoint = repo.webhook_endpoints.get(delivery.endpoint_id)
            except NotFound:
                return AttemptOutcome.SKIPPED  # the endpoint was removed meanwhile
        due = delivery.next_attempt_at
        if delivery.status != WebhookStatus.PENDING or (due is not None and due > now + EARLY):
            return AttemptOutcome.SKIPPED
        try:
            secret = self._box.open(endpoint.secret)
        except FrontdeskError as exc:  # another secret key: no signature can be made
            reason = f"{exc}; remove the endpoint and add it again"
            return self._finish(workspace_id, delivery_id, None, reason, retry=False)
        body = delivery.body.encode("utf-8")
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, timestamp, body),
            VERSION_HEADER: SCHEMA_VERSION,
            "X-Frontdesk-Event": delivery.event_type,
            "X-Frontdesk-Delivery": str(delivery.id),
        }
        try:
            code, detail = self._poster.post(endpoint.url, body, headers)
        except PermanentSendError as exc:
            return self._finish(workspace_id, delivery_id, None, exc.reason, retry=False)
        except TransientSendError as exc:
            return self._finish(workspace_id, delivery_id, None, exc.reason, retry=retry)
        if 200 <= code < 300:
            return self._finish(workspace_id, delivery_id, code, "", retry=False)
        error = f"HTTP {code}" + (f": {detail}" if detail else "")
        return self._finish(workspace_id, delivery_id, code, error, retry=retry)

    def _finish(
        self, workspace_id: int, delivery_id: int, code: int | None, error: str, *, retry: bool
    ) -> AttemptOutcome:
        now = self._clock()
        delay = 0.0
        with self._uow() as uow:
            delivery = uow.workspace(workspace_id).webhook_deliveries.get(
                delivery_id, for_update=True
            )
            if delivery.status != WebhookStatus.PENDING:
                return AttemptOutcome.SKIPPED
            delivery.attempts += 1
            delivery.response_code = code
            delivery.last_error = error[:2000]
            delivery.updated_at = now
            if not error:
                delivery.status = WebhookStatus.DELIVERED
                delivery.next_attempt_at = None
                outcome = AttemptOutcome.DELIVERED
            else:
                delay = self._wait(delivery.attempts)
                first = delivery.created_at or now
                if retry and now + timedelta(seconds=delay) <= first + self._retry_for:
                    delivery.next_attempt_at = now + timedelta(seconds=delay)
                    outcome = AttemptOutcome.RETRYING
                else:
                    if retry:
                        delivery.last_error = (
                            f"gave up after {delivery.attempts} attempts: {error}"[:2000]
                        )
                    delivery.status = WebhookStatus.FAILED
                    delivery.next_attempt_at = None
                    outcome = AttemptOutcome.FAILED
            uow.commit()
        if outcome == AttemptOutcome.RETRYING:
            log.warning("webhook delivery %s failed (%s); trying again", delivery_id, error)
            self._enqueue(workspace_id, delivery_id, delay=delay)
        elif outcome == AttemptOutcome.FAILED:
            log.warning("webhook delivery %s failed: %s", delivery_id, error)
        return outcome

    # -- lost jobs ------------------------------------------------------------------------

    def sweep(self, *, grace: timedelta = LOST_AFTER) -> list[int]:
        """Enqueue again the pending deliveries due more than ``grace`` ago (their job was
        lost with its worker); harmless when it was only slow."""
        before = self._clock() - grace
        found: list[tuple[int, int]] = []
        with self._uow(read_only=True) as uow:
            for workspace in uow.workspaces():
                repo = uow.workspace(workspace.id)
                found += [(workspace.id, d.id) for d in repo.webhook_deliveries.due(before)]
        for workspace_id, delivery_id in found:
            self._enqueue(workspace_id, delivery_id)
        return [delivery_id for _, delivery_id in found]

    # -- helpers --------------------------------------------------------------------------

    def _record(
        self,
        repo: WorkspaceScope,
        endpoint_id: int,
        event_id: str,
        event_type: str,
        body: str,
        now: datetime,
    ) -> WebhookDelivery:
        delivery = WebhookDelivery(
            workspace_id=repo.workspace_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        repo.add(delivery)
        repo.flush()
        return delivery

    def _enqueue(self, workspace_id: int, delivery_id: int, *, delay: float = 0) -> None:
        if self._queue is None:
            log.warning("no queue: webhook delivery %s waits for the sweep", delivery_id)
            return
        try:
            self._queue.enqueue(workspace_id, delivery_id, delay=delay)
        except Exception:  # stored as pending: the sweep enqueues it again
            log.exception("could not queue webhook delivery %s", delivery_id)


def _workspace(repo: WorkspaceScope) -> dict[str, Any]:
    workspace = repo.workspace()
    return {"id": workspace.id, "name": workspace.name}


def _data(repo: WorkspaceScope, event: Event, event_type: str) -> dict[str, Any]:
    """The event's ``data`` (schema version 1), read as it is right after the commit."""
    if isinstance(event, AppointmentBooked | AppointmentCancelled):
        appointment = repo.appointments.get(event.appointment_id)
        contact = repo.contacts.get(appointment.contact_id) if appointment.contact_id else None
        return {"appointment": appointment_data(appointment, contact)}
    assert isinstance(event, ConversationEvent)
    conversation = repo.conversations.get(event.conversation_id)
    contact = repo.contacts.get(conversation.contact_id)
    data: dict[str, Any] = {"conversation": conversation_data(conversation, contact)}
    if isinstance(event, MessageCreated):
        data["message"] = message_data(repo.messages.get(event.message_id))
    elif isinstance(event, LeadCaptured):
        data["contact"] = contact_data(repo.contacts.get(event.contact_id))
    elif event_type == "handoff.requested" and isinstance(event, ConversationUpdated):
        data["reason"] = str(event.changes.get("handoff") or "")
    return data
