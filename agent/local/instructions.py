"""The admin's conditional instructions, as rules the offline model can follow.

"Whenever someone asks about a price, also tell them that new clients get their first
nail trim free." or "Always mention our 2-year warranty when someone asks about
installations." name a trigger (a price question, or words the visitor uses) and what to
say. The offline model cannot follow free-form prose, but these two shapes cover the
admin's "when X, say Y" and are parsed here, in plain English; anything else in the
instructions is left to the rest of the receptionist (contact order, channel) or to an
LLM model. What to say is the admin's own words, never the visitor's, and never the
instructions themselves: a rule only ever yields its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.text import fold

_SAY = (
    r"(?:tell (?:them|him|her|the \w+|visitors|guests|customers|clients|people)"
    r"|let them know|remind them|mention|say)"
)
_WHEN = r"(?:when(?:ever)?|if|each time|every time)"
_RULE_FIRST = re.compile(
    rf"^(?:always\s+)?{_WHEN}\s+(?P<cond>[^,]+),\s*(?:please\s+)?(?:always\s+)?(?P<also>also\s+)?"
    rf"(?P<verb>{_SAY})\s+(?P<msg>.+)$",
    re.I,
)
_RULE_LAST = re.compile(
    rf"^(?:please\s+)?(?:always\s+)?(?P<also>also\s+)?(?P<verb>{_SAY})\s+(?P<msg>.+?)\s+{_WHEN}\s+"
    rf"(?P<cond>.+)$",
    re.I,
)
_PRICE = re.compile(r"\b(price|prices|pricing|cost|costs|how much|fees?|rates?|quotes?)\b", re.I)
_TRIGGER_VERBS = re.compile(
    r"\b(someone|anyone|a (guest|visitor|customer|client|caller|person)|guests|visitors"
    r"|customers|clients|people|they|he|she|(is )?ask(s|ing)?( us)?( about| for)?|mentions?"
    r"|says?|talks? about|brings? up|inquires? about|wants?|needs?|is|are|about|a|an|the"
    r"|their|his|her|our|any|some)\b",
    re.I,
)
_LEADING_PRONOUNS = {"they": "you", "their": "your", "them": "you"}
_MIN_PREFIX = 5  # "installation" matches "install", "birthdays" matches "birthday"


@dataclass(frozen=True)
class Rule:
    message: str
    on_price: bool = False  # fires on any price question
    words: frozenset[str] = frozenset()  # fires when the visitor uses one of these
    also: bool = False  # "also tell them": said besides an answer, never instead of one


def parse_rules(instructions: str) -> list[Rule]:
    """Every "when X, tell them Y" / "mention Y when X" sentence of the instructions."""
    rules = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", instructions or ""):
        sentence = sentence.strip().rstrip(".!")
        match = _RULE_FIRST.match(sentence) or _RULE_LAST.match(sentence)
        if not match:
            continue
        message, also = _message(match["verb"], match["msg"]), bool(match["also"])
        condition = match["cond"]
        if _PRICE.search(condition):
            rules.append(Rule(message, on_price=True, also=also))
            continue
        words = frozenset(fold(w) for w in re.split(r"\W+", _TRIGGER_VERBS.sub(" ", condition)))
        words = frozenset(w for w in words if len(w) >= 3 and w not in {"and", "or"})
        if words:
            rules.append(Rule(message, words=words, also=also))
    return rules


def triggered(rules: list[Rule], text: str, *, asks_price: bool) -> list[Rule]:
    """The rules the visitor's message sets off, in the admin's order."""
    said = {fold(w) for w in re.findall(r"\w+", text or "")}
    return [
        rule
        for rule in rules
        if (rule.on_price and asks_price) or any(_same(w, s) for w in rule.words for s in said)
    ]


def _message(verb: str, text: str) -> str:
    """What to say, as a sentence: "that new clients get..." -> "New clients get...";
    "mention our 2-year warranty" -> "Good to know: our 2-year warranty."."""
    text = re.sub(r"^(that|about)\s+", "", text.strip(), flags=re.I)
    first, _, rest = text.partition(" ")
    first = _LEADING_PRONOUNS.get(first.lower(), first)
    text = f"{first} {rest}".strip()
    if verb.lower() == "mention" and re.match(r"(our|the|a|an|your)\b", text, re.I):
        return f"Good to know: {text}."
    return text[:1].upper() + text[1:] + "."


def _same(word: str, said: str) -> bool:
    if word == said:
        return True
    shared = 0
    while shared < min(len(word), len(said)) and word[shared] == said[shared]:
        shared += 1
    return shared >= _MIN_PREFIX
