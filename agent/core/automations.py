"""Automations: an admin's rules of trigger → conditions → actions, run on each event.

A committed domain event that is a trigger (the outgoing webhooks' event names, see
``webhook_payloads.webhook_types``) goes to a worker when some enabled rule waits for it;
"no reply for N minutes" is found by a round every minute. Each rule's run is logged with
the conditions it checked and what each action did, once per event (a job run twice acts
once). Rules cannot loop: what a rule's actions cause never runs that rule again, and a
chain of rules stops after ``MAX_CHAIN`` steps. A rule can be dry-run against the last 50
events of its trigger before it is switched on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.core.automation_rules import (
    TEAM,
    TRIGGERS,
    UNANSWERED,
    Facts,
    clean_action,
    clean_condition,
    clean_trigger,
    describe_action,
    describe_condition,
    holds,
    render,
    rule_name,
)
from agent.core.conversations import ConversationService
from agent.core.delivery import DeliveryService
from agent.core.errors import Conflict, FrontdeskError, ValidationError
from agent.core.events import (
    AppointmentBooked,
    AppointmentCancelled,
    ConversationEvent,
    Event,
)
from agent.core.models import (
    AuthorKind,
    AutomationEvent,
    AutomationRule,
    AutomationRun,
    Channel,
    ConversationStatus,
)
from agent.core.notifications import NotificationService
from agent.core.opening_hours import is_open
from agent.core.outgoing_webhooks import WebhookService
from agent.core.ports import AutomationQueue, Clock, UnitOfWorkFactory, WorkspaceScope
from agent.core.recent import PerWorkspace
from agent.core.webhook_payloads import (
    appointment_data,
    contact_data,
    conversation_data,
    message_data,
    webhook_types,
)

log = logging.getLogger(__name__)
MAX_CHAIN = 3  # rules whose actions led to an event; past this, no rule runs on it
DRY_RUN_EVENTS = 50
KEEP_EVENTS = 1000  # trigger events kept per workspace, for dry runs
UNANSWERED_LOOKBACK = timedelta(days=2)  # older silences are history, not a task
UNANSWERED_BATCH = 200
# How long a process trusts its list of the triggers a workspace's enabled rules wait for
# (so a customer's message costs no database read when none does): a rule switched on in
# one process reaches the others within this many seconds.
TRIGGERS_TTL = 5.0
# The rules whose actions are running in this thread (what their actions cause is
# published on the same thread, synchronously, after each commit).
_CHAIN: ContextVar[tuple[int, ...]] = ContextVar("automation_chain", default=())


@dataclass(frozen=True)
class Trigger:
    """One event a rule may run on, as a job carries it (plain values)."""

    type: str
    key: str  # the event's identity: a rule runs once per key
    conversation_id: int | None = None
    message_id: int | None = None
    contact_id: int | None = None
    appointment_id: int | None = None
    chain: tuple[int, ...] = ()
    at: str = ""  # when it happened (ISO), for the dry-run list

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "chain": list(self.chain)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trigger:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**{**known, "chain": tuple(known.get("chain") or ())})


@dataclass(frozen=True)
class Outcome:
    """What one rule did (or, in a dry run, would do) for one event."""

    trigger: Trigger
    matched: bool
    checks: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class RuleDraft:
    """A rule as an admin filled it in, checked (``AutomationService.check``)."""

    name: str
    trigger: str
    wait_minutes: int
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class _Names:
    members: dict[int, str]
    templates: dict[int, str]
    endpoints: dict[int, str]


class AutomationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        conversations: ConversationService,
        notifications: NotificationService,
        webhooks: WebhookService,
        delivery: DeliveryService,
        queue: AutomationQueue | None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._conversations = conversations
        self._notifications = notifications
        self._webhooks = webhooks
        self._delivery = delivery
        self._queue = queue
        self._in_use = PerWorkspace(self._load_triggers_in_use, TRIGGERS_TTL, monotonic)

    # -- rules ----------------------------------------------------------------------------

    def check(
        self,
        workspace_id: int,
        *,
        name: object,
        trigger: object,
        wait_minutes: object = 0,
        conditions: list[Mapping[str, Any]],
        actions: list[Mapping[str, Any]],
    ) -> RuleDraft:
        """The rule checked against the workspace (its members, replies, endpoints)."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            members = [m.id for m in repo.team.all()]
            templates = [t.id for t in repo.templates.all()]
            endpoints = [e.id for e in repo.webhook_endpoints.all()]
            country = repo.workspace().country
        kind, minutes = clean_trigger(trigger, wait_minutes)
        if not actions:
            raise ValidationError("actions", "choose at least one action")
        return RuleDraft(
            name=rule_name(name),
            trigger=kind,
            wait_minutes=minutes,
            conditions=[clean_condition(c, members=members) for c in conditions],
            actions=[
                clean_action(
                    a, members=members, templates=templates, endpoints=endpoints, country=country
                )
                for a in actions
            ],
        )

    def save(
        self, workspace_id: int, draft: RuleDraft, *, by: str, rule_id: int | None = None
    ) -> AutomationRule:
        """Add a rule (off until switched on) or change one (it keeps its on/off state)."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if rule_id is None:
                rule = AutomationRule(
                    workspace_id=workspace_id,
                    name=draft.name,
                    trigger=draft.trigger,
                    created_by=by,
                    created_at=now,
                )
                repo.add(rule)
            else:
                rule = repo.automation_rules.get(rule_id)
            rule.name, rule.trigger, rule.wait_minutes = (
                draft.name,
                draft.trigger,
                draft.wait_minutes,
            )
            rule.conditions, rule.actions = list(draft.conditions), list(draft.actions)
            rule.updated_at = now
            repo.flush()
            uow.commit()
        self._in_use.forget(workspace_id)
        return rule

    def switch(self, workspace_id: int, rule_id: int, enabled: bool) -> AutomationRule:
        with self._uow() as uow:
            rule = uow.workspace(workspace_id).automation_rules.get(rule_id)
            rule.enabled = enabled
            rule.updated_at = self._clock()
            uow.commit()
        self._in_use.forget(workspace_id)
        return rule

    def remove(self, workspace_id: int, rule_id: int) -> None:
        """Remove a rule and its run log."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            rule = repo.automation_rules.get(rule_id)
            repo.automation_runs.delete_for_rule(rule.id)
            repo.delete(rule)
            uow.commit()
        self._in_use.forget(workspace_id)

    def rules(self, workspace_id: int) -> list[AutomationRule]:
        with self._uow(read_only=True) as uow:
            return list(uow.workspace(workspace_id).automation_rules.all())

    def rule(self, workspace_id: int, rule_id: int) -> AutomationRule:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).automation_rules.get(rule_id)

    def runs(self, workspace_id: int, rule_id: int, *, limit: int = 100) -> list[AutomationRun]:
        """The rule's run log, newest first."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            return list(
                repo.automation_runs.for_rule(repo.automation_rules.get(rule_id).id, limit=limit)
            )

    def describe(self, workspace_id: int, rule: AutomationRule | RuleDraft) -> dict[str, Any]:
        """The rule in words, for its page: trigger, conditions, actions."""
        with self._uow(read_only=True) as uow:
            names = _names(uow.workspace(workspace_id))
        trigger = TRIGGERS[rule.trigger].replace("N minutes", f"{rule.wait_minutes} minutes")
        return {
            "trigger": trigger,
            "conditions": [describe_condition(c, names.members) for c in rule.conditions],
            "actions": [
                describe_action(a, names.members, names.templates, names.endpoints)
                for a in rule.actions
            ],
        }

    # -- events in ------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """The bus handler: each trigger this event is goes to the rules waiting for it.
        Triggers other than a customer's message are kept for dry runs, rules or not."""
        types = webhook_types(event)
        if not types:
            return
        chain = _CHAIN.get()
        now = self._clock()
        conversation_id = event.conversation_id if isinstance(event, ConversationEvent) else None
        appointment_id = (
            event.appointment_id
            if isinstance(event, AppointmentBooked | AppointmentCancelled)
            else None
        )
        message_id = getattr(event, "message_id", None)
        contact_id = getattr(event, "contact_id", None)
        found: list[Trigger] = []
        kept = [t for t in types if t != "message.received"]
        in_use = self._in_use.get(event.workspace_id)
        if not kept and not in_use.intersection(types):
            return
        with self._uow(read_only=not kept) as uow:
            repo = uow.workspace(event.workspace_id)
            for kind in types:
                key = f"message:{message_id}"
                if kind != "message.received":
                    record = AutomationEvent(
                        workspace_id=event.workspace_id,
                        type=kind,
                        conversation_id=conversation_id,
                        contact_id=contact_id,
                        appointment_id=appointment_id,
                        created_at=now,
                    )
                    repo.add(record)
                    repo.flush()
                    key = f"event:{record.id}"
                    if record.id % 100 == 0:
                        repo.automation_events.prune(KEEP_EVENTS)
                if kind in in_use:
                    found.append(
                        Trigger(
                            kind,
                            key,
                            conversation_id,
                            message_id,
                            contact_id,
                            appointment_id,
                            chain,
                            now.isoformat(),
                        )
                    )
            if kept:
                uow.commit()
        for trigger in found:
            self._enqueue(event.workspace_id, trigger)

    def _load_triggers_in_use(self, workspace_id: int) -> frozenset[str]:
        with self._uow(read_only=True) as uow:
            return frozenset(uow.workspace(workspace_id).automation_rules.triggers_in_use())

    def unanswered_round(self) -> int:
        """Run the "no reply for N minutes" rules on the silences that are due (each
        customer message at most once per rule); how many runs were recorded."""
        now = self._clock()
        due: list[tuple[int, AutomationRule, list[Trigger]]] = []
        with self._uow(read_only=True) as uow:
            for workspace in uow.workspaces():
                repo = uow.workspace(workspace.id)
                for rule in repo.automation_rules.enabled(UNANSWERED):
                    before = now - timedelta(minutes=rule.wait_minutes)
                    since = before - UNANSWERED_LOOKBACK
                    messages = repo.automation_events.unanswered(since, before, UNANSWERED_BATCH)
                    triggers = [
                        _unanswered(m)
                        for m in messages
                        if not repo.automation_runs.ran(rule.id, f"unanswered:{m.id}")
                    ]
                    if triggers:
                        due.append((workspace.id, rule, triggers))
        count = 0
        for workspace_id, rule, triggers in due:
            for trigger in triggers:
                if self._run_rule(workspace_id, rule, trigger) is not None:
                    count += 1
        return count

    # -- the job --------------------------------------------------------------------------

    def run(self, workspace_id: int, trigger: Trigger) -> list[AutomationRun]:
        """Run every enabled rule of the trigger on it (what the job does); safe to repeat."""
        with self._uow(read_only=True) as uow:
            rules = list(uow.workspace(workspace_id).automation_rules.enabled(trigger.type))
        runs = [self._run_rule(workspace_id, rule, trigger) for rule in rules]
        return [r for r in runs if r is not None]

    def _run_rule(
        self, workspace_id: int, rule: AutomationRule, trigger: Trigger
    ) -> AutomationRun | None:
        if rule.id in trigger.chain:
            return None  # its own actions caused this event: it never runs on it
        now = self._clock()
        run = AutomationRun(
            workspace_id=workspace_id,
            rule_id=rule.id,
            event_key=trigger.key,
            event_type=trigger.type,
            conversation_id=trigger.conversation_id,
            depth=len(trigger.chain),
            created_at=now,
        )
        # Claim the event first: the unique (rule, event) row makes a second job skip it.
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if repo.automation_runs.ran(rule.id, trigger.key):
                return None
            if len(trigger.chain) >= MAX_CHAIN:
                run.error = f"stopped: {len(trigger.chain)} rules in a row led here"
            else:
                outcome = self._judge(repo, rule, trigger)
                run.matched, run.checks, run.error = outcome.matched, outcome.checks, outcome.error
            repo.add(run)
            try:
                repo.flush()
            except Conflict:
                return None  # another job claimed it meanwhile
            uow.commit()
        if not run.matched or run.error:
            return run
        with self._uow(read_only=True) as uow:  # read once for every action of the run
            repo = uow.workspace(workspace_id)
            names = _names(repo)
            facts = self._facts(repo, trigger)
            subjects = _subjects(repo, trigger)
        token = _CHAIN.set((*trigger.chain, rule.id))
        try:
            done = [
                self._act(workspace_id, rule, trigger, action, names, facts, subjects)
                for action in rule.actions
            ]
        finally:
            _CHAIN.reset(token)
        with self._uow() as uow:
            record = uow.workspace(workspace_id).automation_runs.get(run.id)
            record.actions = done
            record.error = "; ".join(a["detail"] for a in done if not a["ok"])[:2000]
            uow.commit()
        run.actions, run.error = done, record.error
        if run.error:
            log.warning("automation rule %s on %s: %s", rule.id, trigger.key, run.error)
        return run

    # -- conditions -----------------------------------------------------------------------

    def _judge(self, repo: WorkspaceScope, rule: AutomationRule, trigger: Trigger) -> Outcome:
        try:
            facts = self._facts(repo, trigger)
        except FrontdeskError as exc:
            return Outcome(trigger, False, error=f"the event's records are gone ({exc})")
        if facts is None:
            return Outcome(trigger, False, [{"condition": "not in Spam", "ok": False}])
        members = {m.id: m.name for m in repo.team.all()} if rule.conditions else {}
        checks = [
            {"condition": describe_condition(c, members), "ok": holds(c, facts)}
            for c in rule.conditions
        ]
        return Outcome(trigger, all(c["ok"] for c in checks), checks)

    def _facts(self, repo: WorkspaceScope, trigger: Trigger) -> Facts | None:
        """What the conditions look at, as the records stand now (None: spam, never acted on)."""
        workspace = repo.workspace()
        now = self._clock()
        conversation_id, contact_id = _subjects(repo, trigger)
        conversation = repo.conversations.get(conversation_id) if conversation_id else None
        if conversation is not None and conversation.status == ConversationStatus.SPAM:
            return None
        contact = repo.contacts.get(contact_id) if contact_id else None
        text = ""
        if trigger.message_id is not None:
            text = repo.messages.get(trigger.message_id).body
        elif conversation is not None:
            recent = repo.messages.for_conversation(conversation.id, limit=20)
            theirs = [m.body for m in recent if m.author_kind == AuthorKind.CONTACT]
            text = theirs[-1] if theirs else ""
        name = contact.display_name if contact is not None else ""
        values = {
            "name": name,
            "first_name": (contact.first_name if contact else "") or name,
            "email": contact.email if contact else "",
            "phone": contact.phone if contact else "",
            "message": text[:500],
            "channel": str(conversation.channel) if conversation else "",
            "conversation": f"#{conversation.id}" if conversation else "",
        }
        return Facts(
            channel=str(conversation.channel) if conversation else "",
            open_now=is_open(now, workspace.hours, ZoneInfo(workspace.timezone)),
            text=text,
            email=contact.email if contact else "",
            phone=contact.phone if contact else "",
            tags=tuple(contact.tags or ()) if contact else (),
            mode=str(conversation.mode) if conversation else "",
            assignee_id=conversation.assignee_id if conversation else None,
            values=values,
        )

    # -- actions --------------------------------------------------------------------------

    def _act(
        self,
        workspace_id: int,
        rule: AutomationRule,
        trigger: Trigger,
        action: dict[str, Any],
        names: _Names,
        facts: Facts | None,
        subjects: tuple[int | None, int | None],
    ) -> dict[str, Any]:
        """Do one action; its outcome in words (an action failing never stops the next)."""
        conversation_id, contact_id = subjects
        said = describe_action(action, names.members, names.templates, names.endpoints)
        try:
            detail = self._do(
                workspace_id, rule, trigger, action, facts, conversation_id, contact_id
            )
        except FrontdeskError as exc:
            return {"action": said, "ok": False, "detail": f"{said}: {exc}"}
        except Exception as exc:  # a provider down: logged on the run, the next action runs
            log.exception("automation rule %s: %s failed", rule.id, said)
            return {"action": said, "ok": False, "detail": f"{said}: {type(exc).__name__}: {exc}"}
        return {"action": said, "ok": True, "detail": detail}

    def _do(
        self,
        workspace_id: int,
        rule: AutomationRule,
        trigger: Trigger,
        action: dict[str, Any],
        facts: Facts | None,
        conversation_id: int | None,
        contact_id: int | None,
    ) -> str:
        by = f"Automation “{rule.name}”"
        kind = action["kind"]
        values = facts.values if facts is not None else {}
        if kind == "webhook":
            ids = self._webhooks.publish(
                workspace_id,
                trigger.type,
                lambda repo: _webhook_data(repo, rule, trigger),
                endpoint_ids=[action["endpoint_id"]],
            )
            return f"delivery {ids[0]} queued" if ids else "no endpoint"
        if kind == "email" and action["to"] == TEAM:
            sent = self._notifications.email(
                workspace_id,
                "automation",
                render(action["subject"], values),
                render(action["body"], values),
                None,
                conversation_id=conversation_id,
                contact_id=contact_id,
            )
            if sent.error:
                raise Conflict(sent.error)
            return f"emailed {sent.recipient}"
        if kind == "sms" and action["to"] == TEAM:
            body = render(action["body"], values)
            for number in action["numbers"]:
                self._delivery.send_now(workspace_id, Channel.SMS, number, body)
            return f"texted {', '.join(action['numbers'])}"
        if contact_id is not None and kind == "tag":
            added = self._conversations.tag_contact(
                workspace_id, contact_id, action["tag"], by, conversation_id
            )
            return "tagged" if added else "already tagged"
        if contact_id is not None and kind in ("email", "sms"):
            return self._to_contact(workspace_id, action, values, conversation_id, contact_id, by)
        if conversation_id is None:
            raise Conflict("this event has no conversation")
        if kind == "assign":
            changed = self._conversations.assign(
                workspace_id, conversation_id, action["member_id"], by
            )
            return "assigned" if changed else "already assigned"
        if kind == "close":
            return (
                "closed"
                if self._conversations.close_as(workspace_id, conversation_id, by)
                else "already closed"
            )
        if kind == "handoff":
            if not self._conversations.hand_off(workspace_id, conversation_id, by):
                return "a person has it already"
            self._notifications.handoff(workspace_id, conversation_id, by)
            return "handed to the team"
        if kind == "template":
            with self._uow(read_only=True) as uow:
                saved = uow.workspace(workspace_id).templates.all()
            template = next((t for t in saved if t.id == action["template_id"]), None)
            if template is None:
                raise Conflict("the saved reply was removed")
            message = self._conversations.automated_message(
                workspace_id, conversation_id, render(template.body, values), by
            )
            return f"message {message.id} sent"
        raise Conflict("this event has no contact")

    def _to_contact(
        self,
        workspace_id: int,
        action: dict[str, Any],
        values: Mapping[str, str],
        conversation_id: int | None,
        contact_id: int,
        by: str,
    ) -> str:
        with self._uow(read_only=True) as uow:
            contact = uow.workspace(workspace_id).contacts.get(contact_id)
        body = render(action["body"], values)
        if action["kind"] == "email":
            if not contact.email:
                raise Conflict("the contact has no email address")
            sent = self._notifications.email(
                workspace_id,
                "automation",
                render(action["subject"], values),
                body,
                [contact.email],
                conversation_id=conversation_id,
                contact_id=contact_id,
            )
            if sent.error:
                raise Conflict(sent.error)
            where = contact.email
        else:
            if not contact.phone:
                raise Conflict("the contact has no phone number")
            self._delivery.send_now(workspace_id, Channel.SMS, contact.phone, body)
            where = contact.phone
        if conversation_id is not None:
            verb = "emailed" if action["kind"] == "email" else "texted"
            self._conversations.call_note(
                workspace_id, conversation_id, f"{by} {verb} the contact at {where}: {body}"
            )
        # No address in the run log: a contact's deletion must not leave it behind.
        return "sent to the contact by " + ("email" if action["kind"] == "email" else "SMS")

    # -- dry run --------------------------------------------------------------------------

    def dry_run(
        self, workspace_id: int, draft: RuleDraft, *, limit: int = DRY_RUN_EVENTS
    ) -> list[Outcome]:
        """What the rule would have done on the last ``limit`` events of its trigger, judged
        on the records as they stand now; nothing is done or logged."""
        now = self._clock()
        rule = AutomationRule(
            workspace_id=workspace_id,
            name=draft.name,
            trigger=draft.trigger,
            wait_minutes=draft.wait_minutes,
            conditions=draft.conditions,
            actions=draft.actions,
        )
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            names = _names(repo)
            triggers = _recent(repo, rule, now, limit)
            outcomes = [self._judge(repo, rule, t) for t in triggers]
        said = [
            {"action": describe_action(a, names.members, names.templates, names.endpoints)}
            for a in rule.actions
        ]
        return [
            Outcome(o.trigger, o.matched, o.checks, said if o.matched else [], o.error)
            for o in outcomes
        ]

    # -- helpers --------------------------------------------------------------------------

    def _enqueue(self, workspace_id: int, trigger: Trigger) -> None:
        if self._queue is None:
            self.run(workspace_id, trigger)
            return
        try:
            self._queue.enqueue(workspace_id, trigger.to_dict())
        except Exception:  # the event happened; a lost rule run is logged, not fatal
            log.exception("could not queue the automations for %s", trigger.key)


def _names(repo: WorkspaceScope) -> _Names:
    return _Names(
        members={m.id: m.name for m in repo.team.all()},
        templates={t.id: t.name for t in repo.templates.all()},
        endpoints={e.id: e.url for e in repo.webhook_endpoints.all()},
    )


def _subjects(repo: WorkspaceScope, trigger: Trigger) -> tuple[int | None, int | None]:
    """The event's conversation and contact (an appointment's, when it is about one)."""
    conversation_id, contact_id = trigger.conversation_id, trigger.contact_id
    if trigger.appointment_id is not None:
        appointment = repo.appointments.get(trigger.appointment_id)
        conversation_id = conversation_id or appointment.conversation_id
        contact_id = contact_id or appointment.contact_id
    if conversation_id is not None and contact_id is None:
        contact_id = repo.conversations.get(conversation_id).contact_id
    return conversation_id, contact_id


def _unanswered(message: Any) -> Trigger:
    at = message.created_at.isoformat() if message.created_at else ""
    return Trigger(
        UNANSWERED, f"unanswered:{message.id}", message.conversation_id, message.id, at=at
    )


def _recent(repo: WorkspaceScope, rule: AutomationRule, now: datetime, limit: int) -> list[Trigger]:
    if rule.trigger == "message.received":
        return [
            Trigger(
                rule.trigger,
                f"message:{m.id}",
                m.conversation_id,
                m.id,
                at=m.created_at.isoformat() if m.created_at else "",
            )
            for m in repo.automation_events.visitor_messages(limit)
        ]
    if rule.trigger == UNANSWERED:
        before = now - timedelta(minutes=rule.wait_minutes)
        found = repo.automation_events.unanswered(before - UNANSWERED_LOOKBACK, before, limit)
        return [_unanswered(m) for m in reversed(found)]
    return [
        Trigger(
            e.type,
            f"event:{e.id}",
            e.conversation_id,
            None,
            e.contact_id,
            e.appointment_id,
            at=e.created_at.isoformat() if e.created_at else "",
        )
        for e in repo.automation_events.recent(rule.trigger, limit)
    ]


def _webhook_data(repo: WorkspaceScope, rule: AutomationRule, trigger: Trigger) -> dict[str, Any]:
    """An automation's webhook: the event's records (the webhooks' schema) and the rule."""
    data: dict[str, Any] = {"automation": {"rule": {"id": rule.id, "name": rule.name}}}
    conversation_id, contact_id = _subjects(repo, trigger)
    contact = repo.contacts.get(contact_id) if contact_id else None
    if conversation_id is not None and contact is not None:
        conversation = repo.conversations.get(conversation_id)
        data["conversation"] = conversation_data(conversation, contact)
    if contact is not None:
        data["contact"] = contact_data(contact)
    if trigger.message_id is not None:
        data["message"] = message_data(repo.messages.get(trigger.message_id))
    if trigger.appointment_id is not None:
        appointment = repo.appointments.get(trigger.appointment_id)
        data["appointment"] = appointment_data(appointment, contact)
    return data
