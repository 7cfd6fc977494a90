"""The offline model's custom AI actions: when to call one, with what, and what to say.

An admin describes each action in words ("Look up an order's status. Visitors ask:
'where is my order?', 'has order 1234 shipped?'") and gives its parameters as a JSON
schema. The visitor's message calls an action when it means what the description or one
of its example phrasings says (``RULE``: a sentence-vector similarity of at least
``strong``, or of at least ``weak`` with a cue: a content word in common, the operation
asked for, a parameter's value in its own form; with no sentence vectors, two words in
common, or one and such a value), clearly better than any other action (``margin``), and
the visitor asks for it rather than about it. A wrong call does what nobody asked for,
while no call lets the receptionist answer from the knowledge, so when unsure it calls
nothing: an operation the action does not name ("cancel my order" is no order lookup), a
"how ...?" or "what is your ...?" question its examples never ask, a yes/no question
about the business where the examples speak of the visitor's own thing ("do you ship to
Canada?" against "has my order shipped?"), a message in another language.
benchmarks/actions.py measures this on tests/data/action_intents.jsonl. The parameters are
read from the visitor's words by what the schema says of each: an ``enum`` value, a
``pattern``, a ``format`` (email, date), the shape of an example ("A-1234" reads any
letter, dash, four digits), a number for integer or number types, else a code-like token
(letters and digits). A required parameter that is not there is asked for, and the next
message that gives it completes the call.

After the call the reply states the fields the admin let the AI see, plainly ("Here's
what I found: status: shipped; eta: 2026-12-08"); a value that reads as an instruction to
an AI is never repeated.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from agent.core.when import parse_when
from agent.graph.untrusted import is_instruction
from agent.local import nlu
from agent.local.meaning import Meaning
from agent.local.names import word_set
from agent.text import stems

# Words too common in requests to tell one action from another.
_GENERIC = stems(
    "check look find need want get know tell status help please info information "
    "number visitor visitors customer customers ask asks use action example examples "
    "question questions call business system"
)
_ids = itertools.count(1)
_QUOTED = re.compile(  # "where is my order?", \u201cit\u2019s\u201d, or 'has it shipped?'
    r"[\"\u201c\u201d]([^\"\u201c\u201d]{3,120}?)[\"\u201c\u201d]"
    r"|(?<!\w)['\u2018]([^\n]{3,120}?)['\u2019](?!\w)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_NUMBER = re.compile(r"(?<![\w.-])#?(\d+(?:\.\d+)?)(?![\w-])")
_CODE = re.compile(r"(?<![\w-])#?([A-Za-z0-9][A-Za-z0-9_/-]*\d[A-Za-z0-9_/-]*)(?![\w-])")
_WORD_CODE = re.compile(r"(?<![\w-])([A-Za-z0-9][A-Za-z0-9_-]{1,63})(?![\w-])")


@dataclass
class ActionChoice:
    """An action to call (``missing`` empty) or one waiting for parameters."""

    spec: dict[str, Any]
    args: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    def call(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "args": dict(self.args),
            "id": f"call_action_{next(_ids)}",
            "type": "tool_call",
        }

    def question(self) -> str:
        """Asks the visitor for what is missing ("What's your order number?")."""
        labels = [label(self.spec, name) for name in self.missing]
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        return f"I can look that up for you. What's the {listed}?"

    def meta(self) -> dict[str, Any]:
        """Remembered in the reply, so the next message can complete the call."""
        return {"action": {"name": self.name, "args": self.args, "missing": self.missing}}


def label(spec: dict[str, Any], name: str) -> str:
    prop = _properties(spec).get(name, {})
    title = str(prop.get("title") or "").strip()
    return (title or name.replace("_", " ")).lower()


def _properties(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = (spec.get("parameters") or {}).get("properties") or {}
    return {str(k): v for k, v in props.items() if isinstance(v, dict)}


def _required(spec: dict[str, Any]) -> list[str]:
    return [str(r) for r in (spec.get("parameters") or {}).get("required") or []]


# -- deciding ---------------------------------------------------------------------------


def choose(
    specs: Sequence[dict[str, Any]],
    text: str,
    previous: dict[str, Any],
    *,
    meaning: Meaning | None = None,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
    rule: Rule | None = None,
) -> ActionChoice | None:
    """The action the visitor's words call, with what they give of its parameters; None
    when no action fits."""
    if not specs or not text.strip():
        return None
    by_name = {str(s.get("name")): s for s in specs}
    pending = previous.get("action") if isinstance(previous.get("action"), dict) else None
    if pending and pending.get("name") in by_name:
        spec = by_name[pending["name"]]
        args = dict(pending.get("args") or {})
        wanted = [str(m) for m in pending.get("missing") or []]
        found = extract(spec, text, now=now, tz=tz, only=wanted, answer=True)
        if found:  # the visitor answered what we asked
            args.update(found)
            return ActionChoice(spec, args, [r for r in _required(spec) if r not in args])
    best = _best(specs, text, meaning, rule or RULE)
    if best is None:
        return None
    args = extract(best, text, now=now, tz=tz)
    return ActionChoice(best, args, [r for r in _required(best) if r not in args])


def _phrasings(spec: dict[str, Any]) -> list[str]:
    """What the admin said the action is for: its sentences and quoted example phrasings."""
    description = str(spec.get("description") or "")
    found = [(m.group(1) or m.group(2)).strip() for m in _QUOTED.finditer(description)]
    unquoted = _QUOTED.sub(" ", description)
    for line in unquoted.splitlines():
        line = line.strip(" -*•\t")
        for part in re.split(r"(?<=[.!?;])\s+", line):
            if len(part.split()) >= 2:
                found.append(part.strip())
    found.append(str(spec.get("name", "")).replace("_", " "))
    return list(dict.fromkeys(p for p in found if p))


@dataclass(frozen=True)
class Rule:
    """When the visitor's words call an action: the similarity needed on its own
    (``strong``) or with a content word in common (``weak``), the lead needed over the
    runner-up action (``margin``), and whether the gates below apply (``gates``)."""

    strong: float
    weak: float
    margin: float = 0.0
    gates: bool = True


# The first rule (similarity alone), kept so benchmarks/actions.py measures against it.
BASELINE = Rule(strong=0.5, weak=0.38, margin=0.0, gates=False)
# Calibrated on tests/data/action_intents.jsonl (benchmarks/actions.py): abstaining lets
# the receptionist answer from knowledge, a wrong call does something the visitor never
# asked for, so precision comes first.
RULE = Rule(strong=0.45, weak=0.38, margin=0.03)

# Operations that change something. An action whose description never names the operation
# the visitor asks for is not theirs: "cancel my order" is not "where is my order".
_OPERATIONS = word_set(
    "cancel change modify edit update amend return refund exchange delete remove pause resume "
    "upgrade downgrade reschedule postpone book reserve add transfer"
)
# Other words for an operation, and a refusal of what is under way ("don't send them",
# "no longer want it"), which asks to cancel it.
_SAME_OPERATION = {
    "cancel": re.compile(
        r"\b(?:scrap|terminate|void|call\s+off|stop(?!\s+(?:by|in|over|at)\b)"
        r"|(?:don['\u2019]?t|do\s+not|no\s+longer)\s+(?:want|need|send|ship|renew|charge|bill)"
        r"|not\s+(?:want|need)\s+(?:it|them|this|that)\s+any\s*more)\b",
        re.I,
    ),
}
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")
_OPENER = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|so|and|but|also|oh|sorry|btw|quick\s+question)[\s,!:-]+)*",
    re.I,
)
_ASKS_HOW = re.compile(  # how to, advice, and what would happen: "what happens if I cancel?"
    r"^(?:how\b|what\s+(?:should|do|can|must)\s+(?:i|we)\b|what\s+(?:happens|if)\b)", re.I
)
_ASKS_OF_YOURS = re.compile(
    r"^(?:what|which|who|whats|what['\u2019]s)\b[^.?!]{0,24}?\byour\b", re.I
)
_ASKS_YES_NO = re.compile(r"^(?:do|does|did|is|are|was|were|have|has|had)\b", re.I)
_ASKS_MAY_I = re.compile(r"^(?:can|could|may|should)\s+(?:i|we)\b", re.I)
_POSSESSIVE = re.compile(r"\b(?:my|our|mine|ours)\b", re.I)
_NEGATED = re.compile(r"\b(?:don['\u2019]?t|do\s+not|not|never|no\s+need\s+to)\s+$", re.I)
_PERSONAL = re.compile(
    r"\b(?:my|our|mine|ours|me|us|i|i['\u2019](?:m|d|ve|ll)|im|we|we['\u2019](?:re|d|ve|ll))\b",
    re.I,
)


def _form(clause: str) -> str:
    """How a clause asks: "how" (how to, how much), "yours" (what is your ...), "yes/no"
    (do you ..., is there ..., can I ...), or "other" (a request, a statement, "where is
    my ...")."""
    bare = _OPENER.sub("", clause.strip())
    if _ASKS_HOW.search(bare):
        return "how"
    if _ASKS_OF_YOURS.search(bare):
        return "yours"
    if _ASKS_YES_NO.search(bare):
        return "yes/no"
    if _ASKS_MAY_I.search(bare):
        return "may I"
    return "other"


def _clauses(text: str) -> list[str]:
    parts = [c.strip() for c in _CLAUSE_SPLIT.split(text) if len(c.split()) >= 2]
    return list(dict.fromkeys([text.strip(), *parts]))


def _examples(spec: dict[str, Any]) -> list[str]:
    description = str(spec.get("description") or "")
    return [(m.group(1) or m.group(2)).strip() for m in _QUOTED.finditer(description)]


def _operation_words(text: str, *, asked: bool = False) -> set[str]:
    """The operations ``text`` names as verbs ("cancel", "cancels", "cancelled"); "booking"
    or "cancellation" name a thing. ``asked``: the visitor's words, where only the plain
    verb asks for it ("cancel my order"; "booked" says what is, "don't cancel" is not it)."""
    found = set()
    for match in re.finditer(r"[a-z]+", text.lower()):
        word = match.group(0)
        if asked:
            if word in _OPERATIONS and not _NEGATED.search(text.lower()[: match.start()]):
                found.add(word)
            continue
        for base in (word, word[:-1], word[:-2], word[:-3]):
            if base in _OPERATIONS and word in (base, f"{base}s", f"{base}d", f"{base}ed"):
                found.add(base)
    found |= {op for op, rx in _SAME_OPERATION.items() if rx.search(text)}
    return found


def _fits(spec: dict[str, Any], clause: str, text: str) -> bool:
    """Whether the visitor asks the way the action's examples ask:

    - "how ..." and "what is your ..." ask about the business (the knowledge answers them)
      unless the admin's examples ask that way too;
    - "can I ...?" asks what is allowed, unless it names the visitor's own thing, gives a
      parameter's value, or the examples ask so too ("can we get a table for two?");
    - a question, when an example speaks of the visitor's own thing ("has my order
      shipped?"), must too (my, our, I, we) or give a parameter's value; so must a yes/no
      question when the examples ask none.
    A request or a statement ("please cancel it", "my parcel is late") fits any way.
    """
    examples = _examples(spec)
    if not examples:
        return True
    form = _form(clause)
    forms = {_form(e) for e in examples}
    if form in ("how", "yours") and form not in forms:
        return False
    cued = _given(spec, text)
    if form == "may I" and form not in forms and not (_POSSESSIVE.search(clause) or cued):
        return False  # "can I order online?" asks what is allowed
    if form == "other":
        return True  # a request or a statement: "please cancel it", "my parcel is late"
    personal = any(_PERSONAL.search(e) for e in examples)
    given = bool(_PERSONAL.search(text)) or cued
    if personal and not given:
        return False  # "do you ship to Canada?" is not "has my order shipped?"
    return not (form == "yes/no" and "yes/no" not in forms and not given)


def _labels(spec: dict[str, Any]) -> frozenset[str]:
    """The words that name the parameters ("order", "number", "email")."""
    return stems(" ".join(f"{n.replace('_', ' ')} {label(spec, n)}" for n in _properties(spec)))


def _best(
    specs: Sequence[dict[str, Any]],
    text: str,
    meaning: Meaning | None,
    rule: Rule = RULE,
) -> dict[str, Any] | None:
    if rule.gates and nlu.detect_language(text) != "en":
        return None  # the sentence vectors read English; the receptionist answers the rest
    visitor = stems(text) - _GENERIC
    scored: list[tuple[float, float, bool, dict[str, Any]]] = []  # rank, similarity, ok
    clauses = _clauses(text) if rule.gates else [text]
    for spec in specs:
        phrasings = _phrasings(spec)
        shared = visitor & (stems(" ".join(phrasings)) - _GENERIC)
        if rule.gates:  # "my email is ..." shares "email" with every action that needs one
            shared -= _labels(spec)
        asked = _operation_words(text, asked=True) if rule.gates else set()
        if meaning is None:
            if asked - _operation_words(" ".join(phrasings)):
                continue
            if len(shared) >= 2 or (shared and _cued(spec, text)):
                fits = not rule.gates or _fits(spec, text, text)
                scored.append((len(shared) / 10, len(shared) / 10, fits, spec))
            continue
        vectors = meaning.vectors([*clauses, *phrasings])
        grid = vectors[len(clauses) :] @ vectors[: len(clauses)].T  # phrasing x clause
        best = int(np.argmax(grid.max(axis=0)))
        similarity = float(grid[:, best].max())
        asked = _operation_words(clauses[best], asked=True) if rule.gates else set()
        if asked - _operation_words(" ".join(phrasings)):
            continue  # "cancel my order" is not what an order lookup does, however alike
        cue = bool(shared) or (rule.gates and (bool(asked) or _given(spec, text)))
        called = similarity >= rule.strong or (similarity >= rule.weak and cue)
        fits = called and (not rule.gates or _fits(spec, clauses[best], text))
        scored.append((similarity + 0.05 * len(shared), similarity, called and fits, spec))
    if not scored:
        return None
    scored.sort(key=lambda row: -row[0])
    _, similarity, ok, spec = scored[0]
    if not ok:
        return None
    if any(similarity - other < rule.margin for _, other, _, _ in scored[1:]):
        return None  # two actions fit about as well: better to ask nothing than the wrong one
    return spec


def _cued(spec: dict[str, Any], text: str) -> bool:
    """A required parameter with a distinctive form (a pattern, an example's shape, a
    format, a list of values) is in the words: "BK-55120" says "booking reference"."""
    props = _properties(spec)
    cued = [
        n
        for n in _required(spec)
        if any(props.get(n, {}).get(k) for k in ("pattern", "examples", "format", "enum"))
    ]
    return bool(cued) and bool(extract(spec, text, only=cued))


def _given(spec: dict[str, Any], text: str) -> bool:
    """A required parameter's value is in the words by its own form: a ``pattern``, an
    ``enum`` value, the shape of an example ("BK-55120" for "BK-20931"), or a number for
    an integer. An email or a phone number is not: visitors give those with any message."""
    props = _properties(spec)
    for name in _required(spec):
        prop = props.get(name, {})
        distinct = prop.get("pattern") or prop.get("enum") or prop.get("type") == "integer"
        if distinct and _value(name, prop, text, [], now=None, tz=None) is not None:
            return True
        shape = _example_shape(prop)
        if shape is not None and shape.search(text):
            return True
    return False


# -- reading parameters -----------------------------------------------------------------


def extract(
    spec: dict[str, Any],
    text: str,
    *,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
    only: Sequence[str] | None = None,
    answer: bool = False,
) -> dict[str, Any]:
    """The parameters the visitor's words give, by what the schema says of each (required
    ones first). ``answer``: the text replies to our question for ``only``, so a lone
    free-text parameter may take the whole reply."""
    props = _properties(spec)
    order = [*(r for r in _required(spec) if r in props), *props]
    names = [n for n in dict.fromkeys(order) if only is None or n in only]
    used: list[tuple[int, int]] = []
    found: dict[str, Any] = {}
    for name in names:
        value = _value(name, props[name], text, used, now=now, tz=tz)
        if value is not None:
            found[name] = value
    free = [n for n in names if n not in found and _free_text(props[n])]
    if answer and len(free) == 1 and len(names) == 1:
        reply = " ".join(text.split())
        if 0 < len(reply) <= 120:
            found[free[0]] = reply
    return found


def _free_text(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "string" and not (
        prop.get("enum") or prop.get("pattern") or prop.get("format")
    )


def _take(
    pattern: re.Pattern[str], text: str, used: list[tuple[int, int]], group: int = 0
) -> str | None:
    for match in pattern.finditer(text):
        span = match.span(group)
        if not any(span[0] < end and start < span[1] for start, end in used):
            used.append(span)
            return match.group(group)
    return None


def _value(
    name: str,
    prop: dict[str, Any],
    text: str,
    used: list[tuple[int, int]],
    *,
    now: datetime | None,
    tz: ZoneInfo | None,
) -> Any:
    kind = prop.get("type")
    hint = f"{name} {prop.get('format', '')}".lower()
    if prop.get("enum"):
        for option in prop["enum"]:
            rx = re.compile(rf"(?<!\w){re.escape(str(option))}(?!\w)", re.IGNORECASE)
            if _take(rx, text, used) is not None:
                return option
        return None
    if prop.get("pattern"):
        core = str(prop["pattern"]).removeprefix("^").removesuffix("$")
        try:
            rx = re.compile(rf"(?<![\w-])(?:{core})(?![\w-])")
        except re.error:
            return None
        return _take(rx, text, used)
    if "email" in hint:
        return _take(_EMAIL, text, used)
    if kind == "string" and "date" in hint:
        iso = _take(_ISO_DATE, text, used)
        if iso or now is None or tz is None:
            return iso
        when = parse_when(text, now, tz)
        return when.day.isoformat() if when is not None and when.day is not None else None
    if "phone" in hint:
        found = _take(_PHONE, text, used)
        return " ".join(found.split()) if found else None
    if kind in ("integer", "number"):
        number = _take(_NUMBER, text, used, group=1)
        if number is None:
            return None
        return int(float(number)) if kind == "integer" else float(number)
    if kind == "boolean":
        return None  # never guessed from words
    shape = _example_shape(prop)
    if shape is not None:
        found = _take(shape, text, used)
        if found is not None:
            return found
    return _take(_CODE, text, used, group=1)


def _example_shape(prop: dict[str, Any]) -> re.Pattern[str] | None:
    """A pattern from the examples' shape: letters for letters, digits for digits."""
    examples = [str(e) for e in prop.get("examples") or [] if str(e).strip()]
    shapes = []
    for example in examples[:5]:
        shape = ""
        for run in re.finditer(r"[A-Za-z]+|\d+|[^A-Za-z\d]+", example.strip()):
            part = run.group(0)
            if part.isdigit():
                shape += rf"\d{{{max(1, len(part) - 2)},{len(part) + 2}}}"
            elif part.isalpha():
                shape += rf"[A-Za-z]{{{max(1, len(part) - 2)},{len(part) + 2}}}"
            else:
                shape += re.escape(part)
        shapes.append(shape)
    if not shapes:
        return None
    return re.compile(rf"(?<![\w-])(?:{'|'.join(shapes)})(?![\w-])", re.IGNORECASE)


# -- speaking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    parts: list[str]
    meta: dict[str, Any]


def outcome(
    results: Sequence[tuple[dict[str, Any], dict[str, Any]]], specs: Sequence[dict[str, Any]]
) -> Outcome | None:
    """What to tell the visitor after this turn's action calls; None when none ran."""
    by_name = {str(s.get("name")): s for s in specs}
    parts: list[str] = []
    meta: dict[str, Any] = {}
    for call, result in results:
        spec = by_name.get(call["name"])
        if spec is None:
            continue
        if result.get("ok"):
            parts.append(_found(result.get("data")))
            continue
        bad = _bad_parameter(spec, result)
        if bad is not None:
            choice = ActionChoice(spec, {k: v for k, v in call["args"].items() if k != bad}, [bad])
            parts.append(f"That {label(spec, bad)} doesn't look right. {choice.question()}")
            meta.update(choice.meta())
        elif result.get("status_code") == 404:
            parts.append("I couldn't find anything matching that. Could you check the details?")
        else:
            parts.append("Sorry, I couldn't look that up just now. A member of our team can help.")
    return Outcome(parts, meta) if parts else None


def _bad_parameter(spec: dict[str, Any], result: dict[str, Any]) -> str | None:
    """The parameter a refused call named ("order_number: 'x' does not match ...")."""
    if result.get("status_code") is not None:
        return None
    head = str(result.get("error") or "").split(":", 1)[0]
    return head if head in _properties(spec) else None


def _found(data: Any) -> str:
    if not isinstance(data, dict) or not data:
        return "I checked that for you, but there's nothing I can share about it."
    facts = []
    for path, value in data.items():
        shown = _shown(value)
        if shown:
            facts.append(f"{path.replace('.', ' ').replace('_', ' ')}: {shown}")
    if not facts:
        return "I checked that for you, but there's nothing I can share about it."
    return "Here's what I found: " + "; ".join(facts) + "."


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(s for s in (_shown(v) for v in value) if s)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    if text.startswith("[withheld") or is_instruction(text):
        return ""
    return text[:200]
