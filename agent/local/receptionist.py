"""The offline model's decisions: which tools to call, then what to say.

It reads exactly what an LLM would get (the system prompt with its JSON facts, the
knowledge passages, the conversation and this turn's tool results) and works in two
phases: *decide* on the visitor's words (tool calls, or a direct answer), then
*compose* once tool results are in (possibly calling a follow-up tool, e.g. booking a
slot that check_availability just confirmed). What it asked for is remembered in the
reply's metadata, so "Thursday at 10am works" or a bare "Lee Wong, 250-555-0133" in the
next turn complete a booking.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.core.booking import REASONS
from agent.core.contacts import ContactDetails
from agent.core.when import combine, parse_when
from agent.graph.prompts import instructions_of, parse_context, parse_knowledge
from agent.graph.untrusted import clean_passages
from agent.local import actions as custom_actions
from agent.local import nlu
from agent.local.answer import Answer, answer_from
from agent.local.instructions import parse_rules, triggered
from agent.local.meaning import Meaning
from agent.local.phrases import join, say, weekday_name, when_text
from agent.text import sentences, stems

_ids = itertools.count(1)
_VISIT_WORDS = re.compile(r"\b(come|visit|send someone|stop by|drop by)\b", re.IGNORECASE)
_BOOKING_WORDS = re.compile(
    r"\b(book|booking|appointment|schedule|reserve|reservation|cita|reservar|rendez-vous|termin)",
    re.IGNORECASE,
)


def _call(tool: str, **args: Any) -> dict[str, Any]:
    return {"name": tool, "args": args, "id": f"call_local_{next(_ids)}", "type": "tool_call"}


class Receptionist:
    def __init__(
        self,
        messages: list[BaseMessage],
        tools: set[str],
        *,
        meaning: Meaning | None = None,
        multilingual: Meaning | None = None,
        actions: list[dict[str, Any]] | None = None,
    ) -> None:
        self.meaning = meaning
        self.actions = actions or []  # the workspace's custom actions (agent.local.actions)
        self.multilingual = multilingual  # for questions that are not in English
        system = [m for m in messages if m.type == "system"]
        self.facts = parse_context(str(system[0].content)) if system else {}
        self.instructions = instructions_of(str(system[0].content)) if system else ""
        self.passages: list[dict[str, Any]] = []
        for message in system[1:]:
            self.passages += parse_knowledge(str(message.content))
        self.history = [m for m in messages if m.type != "system"]
        self.tools = tools
        self.tz = ZoneInfo(self.facts.get("timezone", "UTC"))
        now = self.facts.get("now")
        self.now = datetime.fromisoformat(now) if now else datetime.now(self.tz)
        self.country = self.facts.get("country", "US")
        self.business = self.facts.get("business", "our business")
        self.text = self._visitor_text()
        self.lang = nlu.detect_language(self.text) if self.text else "en"
        self.previous = self._previous_meta()

    # -- reading the conversation ------------------------------------------------

    def _visitor_text(self) -> str:
        texts: list[str] = []
        for message in reversed(self.history):
            if isinstance(message, HumanMessage):
                texts.append(str(message.content))
            elif isinstance(message, AIMessage) and not message.tool_calls and texts:
                break
        return "\n".join(reversed(texts))

    def _previous_meta(self) -> dict[str, Any]:
        """What our last reply (before this turn) asked for or left pending."""
        seen_visitor = False
        for message in reversed(self.history):
            if isinstance(message, HumanMessage):
                seen_visitor = True
            elif seen_visitor and isinstance(message, AIMessage) and not message.tool_calls:
                return dict(message.response_metadata.get("frontdesk", {}))
        return {}

    def _known_contact(self) -> dict[str, str]:
        return dict(self.facts.get("contact", {}))

    # -- phase 1: decide -----------------------------------------------------------

    def respond(self) -> AIMessage:
        if self.history and isinstance(self.history[-1], ToolMessage):
            return self.compose()
        return self.decide()

    def decide(self) -> AIMessage:
        text = self.text
        intents = nlu.intents(text)
        if "injection" in intents:
            return self._final([say(self.lang, "refuse", business=self.business)])
        if "handoff" in intents and "handoff_to_human" in self.tools:
            return self._tools(
                [_call("handoff_to_human", reason="The visitor asked for a person.")]
            )
        action = custom_actions.choose(
            self.actions, text, self.previous, meaning=self.meaning, now=self.now, tz=self.tz
        )
        if action is not None and action.missing:
            return self._final([action.question()], meta=action.meta())
        if action is not None:
            return self._tools([action.call()])
        calls = []
        expecting_name = "name" in self.previous.get("asked", [])
        details = nlu.extract_contact(text, self.country, expecting_name=expecting_name)
        if not details.is_empty():
            fields = {k: v for k, v in vars(details).items() if v}
            calls.append(_call("capture_contact", **fields))
        link = nlu.link_requested(text, self.facts.get("links", []))
        if link:
            calls.append(_call("share_link", name=link))
        when = parse_when(text, self.now, self.tz)
        start = combine(when, self.tz) if when else None
        # "Do you come out to Sooke?" is a question, "come out Thursday at 10" a booking; so is
        # "what time does lunch end? was hoping to come by around 3" (the visit is background).
        explicit = bool(_BOOKING_WORDS.search(text))
        visit = "booking" in intents or bool(_VISIT_WORDS.search(text))
        asked_visit = visit and (explicit or when is not None) and not nlu.asks_information(text)
        wants_booking = asked_visit or (
            self.previous.get("awaiting") == "time" and when is not None
        )
        if wants_booking and self._booking_rule_known(nlu.bookable_thing(text)):
            wants_booking = False  # "can I reserve the patio?": what the knowledge says of it
        if wants_booking and not link:
            if start is not None:
                calls.append(_call("check_availability", date_or_range=start.isoformat()[:16]))
            elif when is not None and when.day is not None:
                calls.append(_call("check_availability", date_or_range=when.day.isoformat()))
            else:
                calls.append(_call("check_availability", date_or_range=""))
        elif (
            self.previous.get("pending_start")
            and not details.is_empty()
            and self._reachable(details)
        ):
            calls.append(_call("book_appointment", start=self.previous["pending_start"]))
        if calls:
            return self._tools(calls)
        return self.compose()

    def _booking_rule_known(self, thing: list[str]) -> bool:
        """Whether the knowledge says how booking ``thing`` works (one sentence names it and
        booking, "Patio tables are first-come, first-served and cannot be reserved") and a
        knowledge answer to the visitor's question exists."""
        wanted = stems(" ".join(thing))
        if not wanted:
            return False
        passages = _without_injections(self.passages)
        for passage in passages:
            for sentence in sentences(str(passage.get("text", ""))):
                if wanted <= stems(sentence) and _BOOKING_WORDS.search(sentence):
                    return self._answer(passages) is not None
        return False

    def _answer(self, passages: list[dict[str, Any]]) -> Answer | None:
        english = self.lang == "en"
        meaning = self.meaning if english else self.multilingual
        return answer_from(self.text, passages, meaning=meaning, language=self.lang)

    def _reachable(self, extra: ContactDetails | None = None) -> bool:
        known = self._known_contact()
        if extra is not None:
            known.update({k: v for k, v in vars(extra).items() if v})
        known.update(self._captured())
        has_name = bool(known.get("first_name") or known.get("last_name"))
        return has_name and bool(known.get("phone") or known.get("email"))

    # -- phase 2: compose ----------------------------------------------------------

    def _turn_results(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(tool call, parsed result) pairs of this turn, in order."""
        results = {
            m.tool_call_id: _loads(m.content) for m in self.history if isinstance(m, ToolMessage)
        }
        pairs = []
        for message in reversed(self.history):
            if isinstance(message, HumanMessage):
                break
            if isinstance(message, AIMessage) and message.tool_calls:
                for call in reversed(message.tool_calls):
                    pairs.append((call, results.get(call["id"], {})))
        return list(reversed(pairs))

    def _captured(self) -> dict[str, str]:
        for call, result in reversed(self._turn_results()) if self.history else []:
            if call["name"] == "capture_contact" and result.get("ok"):
                return dict(result.get("contact", {}))
        return {}

    def compose(self) -> AIMessage:
        parts: list[str] = []
        meta: dict[str, Any] = {}
        citations: list[dict[str, str]] = []
        results = self._turn_results()
        acted = custom_actions.outcome(results, self.actions)
        if acted is not None:
            return self._final(acted.parts, meta=acted.meta)
        names = {call["name"] for call, _ in results}
        lang = self.lang
        intents = nlu.intents(self.text)

        for call, result in results:
            name = call["name"]
            if name == "handoff_to_human":
                if result.get("open_now", True):
                    return self._final([say(lang, "handoff")], meta={"handoff": True})
                opens = result.get("back") or result.get("hours", "")
                return self._final(
                    [say(lang, "handoff_closed", opens=opens)], meta={"handoff": True}
                )
            if name == "capture_contact":
                parts.append(self._noted(result))
            if name == "share_link":
                key = "link" if result.get("ok") else "no_link"
                parts.append(say(lang, key, markdown=result.get("markdown", "")))

        availability = [(c, r) for c, r in results if c["name"] == "check_availability"]
        booking = [(c, r) for c, r in results if c["name"] == "book_appointment"]
        if booking:
            parts += self._booking_outcome(booking[-1][1], meta)
        elif availability:
            follow_up = self._availability_outcome(availability[-1], parts, meta)
            if follow_up is not None:
                return follow_up

        if "callback" in intents and not booking:
            parts.append(self._callback(meta))
        answerable = "question" in intents and not ({"callback"} & intents) and not booking
        if answerable and not availability and "share_link" not in names:
            passages = _without_injections(self.passages)
            answer = self._answer(passages)
            # the admin's "when they ask about X, tell them Y", in the admin's words
            rules = parse_rules(self.instructions)
            notes = triggered(rules, self.text, asks_price=nlu.asks_price(self.text))
            if answer is not None:
                quoted = ("\n" if answer.listing else " ").join(answer.sentences)
                intro = say(lang, "answer_intro") if lang != "en" else ""
                parts.append(f"{intro} {quoted}".strip())
                parts += [note.message for note in notes]
                if answer.unanswered:
                    parts.append(say(lang, "partial"))  # never echo the visitor's words
                elif lang != "en":  # the quote is English: the reply still reads as theirs
                    parts.append(say(lang, "anything_else"))
                citations = answer.sources
            elif any(not note.also for note in notes):  # the admin's words answer it
                parts += [note.message for note in notes if not note.also]
            elif not parts:
                parts.append(say(lang, "abstain"))
        if not parts:
            if "greeting" in intents:
                parts.append(say(lang, "greeting"))
            elif "thanks" in intents:
                parts.append(say(lang, "thanks"))
            elif self.previous.get("pending_start") and not self._reachable():
                parts.append(self._ask_contact(meta))
            else:
                parts.append(
                    say(
                        lang,
                        "off_topic" if "question" in intents else "abstain",
                        business=self.business,
                    )
                )
        return self._final(parts, meta=meta, citations=citations)

    def _noted(self, result: dict[str, Any]) -> str:
        if not result.get("ok"):
            return say(self.lang, "bad_detail", error=result.get("error", "that detail is invalid"))
        name = result.get("contact", {}).get("first_name", "")
        return say(self.lang, "noted", name=name) if name else say(self.lang, "noted_anon")

    def _local(self, text: str) -> datetime:
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.tz)

    def _slots(self, slots: list[str]) -> str:
        return join([when_text(self._local(s), self.lang) for s in slots[:3]], self.lang)

    def _booking_outcome(self, result: dict[str, Any], meta: dict[str, Any]) -> list[str]:
        lang = self.lang
        start = self._local(result["start"]) if result.get("start") else None
        if result.get("booked") and start is not None:
            return [say(lang, "booked", when=when_text(start, lang))]
        if result.get("reason") == "missing_contact" and start is not None:
            meta["pending_start"] = result["start"]
            return [say(lang, "available", when=when_text(start, lang)), self._ask_contact(meta)]
        parts = []
        if start is not None:
            why = result.get("explanation", "")
            parts.append(say(lang, "unavailable", when=when_text(start, lang), why=why))
        if result.get("alternatives"):
            parts.append(say(lang, "offer", slots=self._slots(result["alternatives"])))
            meta["awaiting"] = "time"
        return parts

    def _availability_outcome(
        self, pair: tuple[dict[str, Any], dict[str, Any]], parts: list[str], meta: dict[str, Any]
    ) -> AIMessage | None:
        _, result = pair
        lang = self.lang
        slots = result.get("slots", [])
        requested = self._local(result["requested"]) if result.get("requested") else None
        if requested is not None:
            free = bool(result.get("available"))
            if not free and result.get("alternatives"):
                slots = result["alternatives"]
            if free and self._reachable() and "book_appointment" in self.tools:
                return self._tools([_call("book_appointment", start=result["requested"])])
            if free:
                meta["pending_start"] = result["requested"]
                parts.append(say(lang, "available", when=when_text(requested, lang)))
                parts.append(self._ask_contact(meta))
                return None
            if not result.get("open_that_day", True):
                parts.append(say(lang, "closed_day", weekday=weekday_name(requested, lang)))
            else:
                parts.append(
                    say(
                        lang,
                        "unavailable",
                        when=when_text(requested, lang),
                        why=REASONS.get(result.get("reason") or "", result.get("hours", "")),
                    )
                )
        elif not result.get("open_that_day", True) and result.get("day"):
            day = self._local(result["day"] + "T12:00")
            parts.append(say(lang, "closed_day", weekday=weekday_name(day, lang)))
        meta["awaiting"] = "time"
        if slots:
            key = "offer" if result.get("day") or requested else "offer_next"
            parts.append(say(lang, key, slots=self._slots(slots)))
        else:
            parts.append(say(lang, "no_slots"))
        if not self._reachable() and requested is None:
            parts.append(self._ask_contact(meta))
        return None

    def _contact_needs(self) -> list[str]:
        known = {**self._known_contact(), **self._captured()}
        order = nlu.contact_order(self.instructions)
        only = nlu.only_channel(self.instructions)
        needs = []
        if not (known.get("first_name") or known.get("last_name")):
            needs.append("name")
        if not (known.get("phone") or known.get("email")):
            needs.append(only or order[0])
        return needs

    def _ask_contact(self, meta: dict[str, Any]) -> str:
        needs = self._contact_needs()
        if not needs:
            return ""
        meta["asked"] = needs
        labels = {"name": "your_name", "phone": "phone", "email": "email"}
        items = [say(self.lang, labels[n]) for n in needs]
        return say(self.lang, "ask_contact", items=join(items, self.lang))

    def _callback(self, meta: dict[str, Any]) -> str:
        known = {**self._known_contact(), **self._captured()}
        if known.get("phone") and (known.get("first_name") or known.get("last_name")):
            return say(self.lang, "callback_ready", phone=known["phone"])
        return f"{say(self.lang, 'callback')} {self._ask_contact(meta)}".strip()

    # -- messages ------------------------------------------------------------------

    def _tools(self, calls: list[dict[str, Any]]) -> AIMessage:
        allowed = [c for c in calls if c["name"] in self.tools]
        if not allowed:
            return self.compose()
        return AIMessage(content="", tool_calls=allowed)

    def _final(
        self,
        parts: list[str],
        *,
        meta: dict[str, Any] | None = None,
        citations: list[dict[str, str]] | None = None,
    ) -> AIMessage:
        text = " ".join(p.strip() for p in parts if p and p.strip())
        return AIMessage(
            content=text,
            response_metadata={
                "frontdesk": {**(meta or {}), "lang": self.lang},
                "citations": citations or [],
                "model_name": "frontdesk-local",
            },
        )


def _without_injections(passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Knowledge is quoted data: text that addresses an AI or tells it what to say
    (agent.graph.untrusted), and any paragraph that tries to instruct the assistant, is
    dropped rather than risk quoting its orders to a visitor."""
    clean = []
    for passage in clean_passages(passages):
        lines = [
            line
            for line in str(passage.get("text", "")).split("\n")
            if "injection" not in nlu.intents(line)
        ]
        if lines:
            clean.append({**passage, "text": "\n".join(lines)})
    return clean


def _loads(content: Any) -> dict[str, Any]:
    try:
        data = json.loads(str(content))
    except ValueError:
        return {"ok": False, "error": str(content)[:200]}
    return data if isinstance(data, dict) else {"ok": True, "value": data}
