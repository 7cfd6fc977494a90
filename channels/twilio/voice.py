"""Phone calls: TwiML for each of Twilio's voice webhooks, answered at once.

"When a call is received" (the number's setting): **end** it (a short message, then
hang up), **forward** it (``<Dial>`` with a timeout; no-answer, busy, failed or canceled
count as missed), or let the **AI** answer: ``<Gather input="speech">`` turns through
the same agent graph as chat, spoken (``agent.core.speech``), with the caller's number
as their contact; "a person, please" transfers the call (``<Dial>`` to the forwarding
number; the recording stops there), and the call ends politely when they are done.

Every call is a message of the caller's phone conversation, with its status, duration,
recording, transcript (AI calls: the caller's words and the AI's, in order) and a short
summary (who, why, outcome, follow-up). A text after the call ("never", "always", or
only when missed) goes once per call, however often Twilio retries.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import Gather, VoiceResponse

from agent.core.channel_accounts import DEFAULT_TEXT_BACK, ChannelAccountService
from agent.core.channel_policy import LIVE
from agent.core.contacts import ContactDetails
from agent.core.conversations import ConversationService, Inbound
from agent.core.conversations.calls import CALL
from agent.core.models import AuthorKind, Channel, ChannelAccount, Direction
from agent.core.ports import UnitOfWorkFactory
from agent.core.speech import says_goodbye, speakable
from channels.twilio.rest import client

log = logging.getLogger(__name__)
PHONE = Channel.PHONE.value
MISSED = frozenset({"no-answer", "busy", "failed", "canceled"})
DIAL_SECONDS = 20
VOICE_PATH = "/channels/twilio/voice"


class VoiceTurn(Protocol):
    """What the agent answers with (``agent.graph.runner.TurnResult``)."""

    reply: str
    handed_off: bool
    tool_calls: list[dict[str, Any]]
    citations: list[dict[str, Any]]


Agent = Callable[[int, int], VoiceTurn]  # (workspace id, conversation id) -> the turn


class VoiceService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: ChannelAccountService,
        conversations: ConversationService,
        agent: Agent,
        public_url: str,
        api_url: str = "",
        summarize: Callable[[str], str] | None = None,
    ) -> None:
        self._uow = uow
        self._summarize = summarize  # an LLM's summary; None: the extractive one
        self._accounts = accounts
        self._conversations = conversations
        self._agent = agent
        self._base = public_url.rstrip("/")
        self._api_url = api_url

    def account(self, number: str) -> ChannelAccount | None:
        return self._accounts.route(PHONE, number)

    def _url(self, step: str, account: ChannelAccount) -> str:
        return f"{self._base}{VOICE_PATH}/{step}?{urlencode({'to': account.external_id})}"

    # -- the call comes in --------------------------------------------------------------

    def incoming(self, account: ChannelAccount, form: Mapping[str, str]) -> str:
        caller, sid = form.get("From", ""), form.get("CallSid", "")
        settings, business = account.settings, self._business(account)
        mode = str(settings.get("calls") or "end")
        self._conversations.receive(
            account.workspace_id,
            Inbound(
                channel=PHONE,
                body=f"Incoming call from {caller}",
                thread_id=caller,
                provider_message_id=sid,
                sender=_caller(caller),
                meta={LIVE: True, CALL: {"sid": sid, "status": "ringing", "handled": mode}},
            ),
        )
        response = VoiceResponse()  # (asked again, Twilio gets the same answer)
        if mode == "forward" and settings.get("forward_to"):
            dial = response.dial(
                timeout=DIAL_SECONDS,
                action=self._url("dial", account),
                record="record-from-answer",
                recording_status_callback=self._url("recording", account),
            )
            dial.number(str(settings["forward_to"]))
            return str(response)
        if mode == "ai":
            self._record(account, sid)
            greeting = f"Thanks for calling {business}. How can I help you today?"
            self._gather(response, account, greeting)
            return str(response)
        message = str(settings.get("end_message") or "").strip() or (
            f"Thanks for calling {business}. We can't take your call right now."
        )
        self._text_back(account, form, missed=True)
        response.say(message)
        response.hangup()
        return str(response)

    def _gather(self, response: VoiceResponse, account: ChannelAccount, say: str) -> None:
        gather = Gather(
            input="speech",
            action=self._url("gather", account),
            speech_timeout="auto",
            language="en-US",
        )
        gather.say(say)
        response.append(gather)
        response.say("I didn't hear anything, so I'll hang up now. Goodbye!")
        response.hangup()

    # -- the AI receptionist's turns ------------------------------------------------------

    def gathered(self, account: ChannelAccount, form: Mapping[str, str]) -> str:
        caller, sid = form.get("From", ""), form.get("CallSid", "")
        speech = " ".join(form.get("SpeechResult", "").split())
        response = VoiceResponse()
        if not speech:
            self._gather(response, account, "Sorry, I didn't catch that. Could you say it again?")
            return str(response)
        business = self._business(account)
        digest = hashlib.sha256(f"{sid}:{speech}".encode()).hexdigest()[:16]
        received = self._conversations.receive(
            account.workspace_id,
            Inbound(
                channel=PHONE,
                body=speech,
                thread_id=caller,
                provider_message_id=f"{sid}:{digest}",
                sender=_caller(caller),
                meta={LIVE: True, "call_sid": sid},
            ),
        )
        if says_goodbye(speech):
            response.say(f"Thanks for calling {business}. Goodbye!")
            response.hangup()
            return str(response)
        conversation_id = received.conversation.id
        turn = self._agent(account.workspace_id, conversation_id)
        spoken = speakable(turn.reply)
        self._conversations.record_spoken(
            account.workspace_id,
            conversation_id,
            spoken,
            in_reply_to=received.message.id,
            meta={"call_sid": sid, "tool_calls": turn.tool_calls, "citations": turn.citations},
        )
        forward = str(account.settings.get("forward_to") or "")
        if turn.handed_off:
            response.say(spoken)
            if forward:
                self._stop_recording(account, sid)
                response.say("I'm transferring you to a person now.")
                dial = response.dial(timeout=DIAL_SECONDS, action=self._url("dial", account))
                dial.number(forward)
            else:
                response.say("Someone from the team will call you back. Goodbye!")
                response.hangup()
            return str(response)
        self._gather(response, account, f"{spoken} Anything else I can help with?")
        return str(response)

    # -- how it ended ----------------------------------------------------------------------

    def dial_ended(self, account: ChannelAccount, form: Mapping[str, str]) -> str:
        """The forwarded (or transferred) call ended: answered, or missed."""
        status = form.get("DialCallStatus", "")
        sid = form.get("CallSid", "")
        self._conversations.update_call(account.workspace_id, sid, {"dial_status": status})
        response = VoiceResponse()
        if status in MISSED:
            texted = self._text_back(account, form, missed=True)
            sorry = "Sorry, nobody could take your call."
            response.say(f"{sorry} We'll text you shortly." if texted else f"{sorry} Goodbye!")
        response.hangup()
        return str(response)

    def status(self, account: ChannelAccount, form: Mapping[str, str]) -> None:
        """The call is over (or failed to connect): status, duration, transcript, summary,
        and the "always" text."""
        sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
        duration = _seconds(form.get("CallDuration"))
        call = self._conversations.update_call(
            account.workspace_id, sid, {"status": status, "duration": duration}
        )
        if call is None or status not in ("completed", *MISSED):
            return
        details = dict((call.meta or {}).get(CALL) or {})
        if details.get("summary"):
            return  # Twilio retried: summarised once
        transcript = self._transcript(account.workspace_id, call.conversation_id, sid)
        missed = status in MISSED or details.get("dial_status") in MISSED
        if details.get("handled") == "end":
            missed = True
        summary = self._summary(account, call.conversation_id, form, transcript, missed)
        self._conversations.update_call(
            account.workspace_id, sid, {"transcript": transcript, "summary": summary}
        )
        self._conversations.call_note(account.workspace_id, call.conversation_id, summary)
        if str(account.settings.get("text_back")) == "always" or missed:
            self._text_back(account, form, missed=missed)

    def recording(self, account: ChannelAccount, form: Mapping[str, str]) -> None:
        if form.get("RecordingStatus", "completed") != "completed":
            return
        url = form.get("RecordingUrl", "")
        duration = (
            int(form["RecordingDuration"]) if form.get("RecordingDuration", "").isdigit() else 0
        )
        self._conversations.update_call(
            account.workspace_id,
            form.get("CallSid", ""),
            {"recording": {"sid": form.get("RecordingSid", ""), "url": url, "duration": duration}},
        )

    # -- helpers -------------------------------------------------------------------------

    def _text_back(self, account: ChannelAccount, form: Mapping[str, str], *, missed: bool) -> bool:
        """The SMS after a call, per the number's setting, once per call."""
        mode = str(account.settings.get("text_back") or "never")
        if mode == "never" or (mode == "missed" and not missed):
            return False
        sid, caller = form.get("CallSid", ""), form.get("From", "")
        with self._uow(read_only=True) as uow:
            found = uow.workspace(account.workspace_id).messages.by_provider_id(PHONE, sid)
        if found is None or (found.meta or {}).get(CALL, {}).get("text_back"):
            return False
        # Claim it first: a retried webhook meanwhile finds it taken.
        self._conversations.update_call(account.workspace_id, sid, {"text_back": "sending"})
        template = str(account.settings.get("text_back_template") or DEFAULT_TEXT_BACK)
        body = template.replace("{business}", self._business(account))
        message, refusal = self._conversations.text_back(account.workspace_id, caller, body)
        outcome = {"text_back": "sent" if message else f"not sent: {refusal}"}
        self._conversations.update_call(account.workspace_id, sid, outcome)
        return message is not None

    def _record(self, account: ChannelAccount, sid: str) -> None:
        """Record an AI-answered call from the start (best effort: the call goes on)."""
        try:
            rest = client(self._accounts.credentials(account), self._api_url)
            rest.calls(sid).recordings.create(
                recording_status_callback=self._url("recording", account)
            )
        except TwilioException as exc:
            log.warning("call %s is not recorded: %s", sid, exc)

    def _stop_recording(self, account: ChannelAccount, sid: str) -> None:
        try:
            rest = client(self._accounts.credentials(account), self._api_url)
            rest.calls(sid).recordings("Twilio.CURRENT").update(status="stopped")
        except TwilioException as exc:
            log.warning("the recording of call %s did not stop: %s", sid, exc)

    def _business(self, account: ChannelAccount) -> str:
        with self._uow(read_only=True) as uow:
            return uow.workspace(account.workspace_id).workspace().name

    def _transcript(
        self, workspace_id: int, conversation_id: int, sid: str
    ) -> list[dict[str, str]]:
        with self._uow(read_only=True) as uow:
            messages = uow.workspace(workspace_id).messages.for_conversation(conversation_id)
        return [
            {"who": "caller" if m.direction == Direction.INBOUND else "ai", "text": m.body}
            for m in messages
            if (m.meta or {}).get("call_sid") == sid
        ]

    def _summary(
        self,
        account: ChannelAccount,
        conversation_id: int,
        form: Mapping[str, str],
        transcript: list[dict[str, str]],
        missed: bool,
    ) -> str:
        """Who called, why, the outcome, and whether someone must follow up (extractive)."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(account.workspace_id)
            contact = repo.contacts.get(repo.conversations.get(conversation_id).contact_id)
            spoken = [
                m
                for m in repo.messages.for_conversation(conversation_id)
                if m.author_kind == AuthorKind.AI
                and (m.meta or {}).get("call_sid") == form.get("CallSid")
            ]
        who = contact.display_name
        asked = next((t["text"] for t in transcript if t["who"] == "caller"), "")
        calls = [c for m in spoken for c in (m.meta or {}).get("tool_calls") or []]
        booked = any(_ok(c, "book_appointment") for c in calls)
        handed = any(_ok(c, "handoff_to_human") for c in calls)
        if booked:
            outcome, follow_up = "an appointment was booked", False
        elif handed:
            outcome, follow_up = "they asked for a person", True
        elif missed:
            outcome, follow_up = "missed", True
        elif transcript:
            outcome, follow_up = "answered by the AI receptionist", False
        else:
            outcome, follow_up = "answered", False
        why = f' They said: "{asked[:200]}".' if asked else ""
        extractive = (
            f"Call summary: {who} called.{why} Outcome: {outcome}. "
            f"Follow-up needed: {'yes' if follow_up else 'no'}."
        )
        if self._summarize is None or not transcript:
            return extractive
        lines = "\n".join(f"{t['who']}: {t['text']}" for t in transcript)
        try:
            written = self._summarize(f"{extractive}\n\nTranscript:\n{lines}").strip()
        except Exception:  # the model is down: the extractive summary still says it
            log.exception("the call summary fell back to the extractive one")
            return extractive
        return f"Call summary: {written}" if written else extractive


def _ok(call: dict[str, Any], name: str) -> bool:
    result = call.get("result")
    return call.get("name") == name and isinstance(result, dict) and bool(result.get("ok", True))


def _seconds(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _caller(number: str) -> ContactDetails:
    return ContactDetails(phone=number) if number.startswith("+") else ContactDetails()
