"""Offline answers: quote the best-supported sentences of retrieved passages, or abstain.

The built-in chat model has no LLM, so it never writes facts: it copies one or two sentences
verbatim from the retrieved passages (list markers trimmed), cites them, and returns None when
they do not support an answer. Only general English is used (stop words, a light stemmer, a
few synonyms), never words tied to one kind of business.

1. Units: passage lines, cut into sentences (not after "e.g." or an initial, not inside
   "$1.50"); a table row ("Service: X; Price: $149") stays whole. Headings in ``source``,
   "#" lines, FAQ question lines and a Q&A's question are not quoted: they are *context* for
   the units they introduce.
2. Question: folded, stemmed words minus stop and intent words, each a *concept* (a synonym
   may widen it: bbq/barbecue). Concepts are *specific*, except numbers, generic words (new,
   house, come...) and words in half the units (the business's domain word). Service actions
   (fix, unclog, clean...) count only when the passages use them, else they are the visitor's
   phrasing (renting, selling or delivering always count). Intents: price, discount, time,
   phone, location, duration, payment (methods), upfront (a deposit, paying in advance),
   credit (instalments, payment plans, financing).
3. Score: per specific concept idf = 1 + ln(units / units having it), half when only in the
   context; 0.3 per generic word; +2 per intent the unit answers (an amount or "free", a
   percentage, a clock time or "closed Sundays", a phone number, a street address, a
   duration); + 0.5 x similarity + 0.25 x rank prior.
4. Abstain (None) unless: a Q&A is the visitor's question (similarity >= 0.7 or it holds every
   specific concept), mentions every specific concept and, asked a price, quotes one: its
   answer's first sentence(s) ("Yes." and the next); or else all of these hold:
   - every specific concept occurs somewhere in the passages ("a new boiler for a 3 bedroom
     house": no "boiler", no answer, whatever the similarity);
   - the quote contains a specific concept other than an action (or an action plus what was
     asked: "how much is a cleaning?") and covers at least half of them;
   - with no specific concept, the question asks for hours, a phone or an address and the
     quote has it (a bare "how much?" abstains); a price question is answered with a price.
5. Selection: the best unit; the next unit of its passage when the best is a lead-in ("Burst
   pipe or no heat?", "Call us:") or short (< 40 chars) and the next adds a concept or asked
   entity (or continues the list that answers "when are you open?"); then any unit with a
   specific concept, scoring at least half the best, that adds either (the price of what the
   best unit describes, the town the best unit left out). At most ``max_sentences``; sources
   are the quoted passages in quote order.
6. Lists: a general question (no specific concept: "what are your opening hours?") whose
   best-scoring passage holds a list or table of what it asks for (two or more consecutive
   list items or table rows with the asked entity) is answered with that list, whole (up
   to ``MAX_LIST_ITEMS``), one item a line, rather than the prose sentences around it.
7. Meaning: when the rules above decide nothing, and every specific concept occurs in the
   passages, the unit closest to the question in sentence-vector space answers (cosine
   >= ``SEMANTIC_MIN``), if it holds at least half of the specific concepts and, asked a
   price, a price. A unit is embedded with its heading ("Happy hour: Monday to ...").
8. Parts: a question in two parts ("how much is X, and do you do Y?") is answered part by
   part; a part nothing answers is listed in ``Answer.unanswered``. A part about what the
   part before it was about ("...? How much are they?") is answered from the same passage.
9. Other languages: English words mean nothing in "¿Cuánto cuesta el mole?", so the unit
   closest in a multilingual sentence-vector space answers, among those that carry what
   is asked (a price, a time...), when it shares a specific word with the question (a
   name, a cognate: "depósito" / "deposit", a weekday: "samedi" / "Saturday", or two
   words whose multilingual vectors are translations: "toalla" / "towel") and is close
   enough (``CROSS_ANCHORED``), or, sharing none, is much closer than the rest. Asked
   about a weekday, only units about that day (ranges count: "Tuesday to Friday") answer.
10. Other words: a visitor's words the knowledge never uses ("teeth cleaning", "tankless
   heater") are its words for them ("dental care", "water heaters") when the unit closest in
   meaning is a clear winner and holds a word close to each of them (names never are).
11. Scenes: a question that asks nothing of its own ("what do I do?") is about the scene
   before it; the passage holding most of the scene says whom to call or where to go.
12. A custom Q&A that retrieval ranks first answers its question asked in other words
   ("Can someone come to our office?" / "Do you do on-site visits?") when the two share a word
   and each other specific word of the visitor's has a close word in the Q&A.
13. Terms: "do we pay anything upfront?", "can I pay in instalments?" is answered by the
   sentence stating such terms (a deposit, payment due in full, financing) about what the
   visitor names, or else one under an FAQ question about those terms (it holds for
   every service); a quote without such terms answers no such question.

Words also match compounds that end with them ("chipped" -> "microchip") and the words
their own compounds end with ("eyelash" -> "lash"), their
derivations ("rent" -> "rental"), and two words the compound of the first's initial and
the second ("electric bikes" -> "e-bikes").
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from agent.local.meaning import Meaning
from agent.local.phrases import WEEKDAYS
from agent.text import STOP_WORDS as _STOP
from agent.text import fold
from agent.text import sentences as _sentences
from agent.text import stem as _stem
from agent.text import stems as _stems
from agent.text import words as _words

QA_MATCH = 0.7  # cosine at which a custom Q&A counts as the visitor's own question
INTENT_BONUS = 2.0
CONTEXT_SHARE = 0.5  # a match in a heading or FAQ question counts half
GENERIC_WEIGHT = 0.3  # flat: generic words only break ties
SHORT_UNIT = 40
MAX_LIST_ITEMS = 10
MIN_COVERAGE = 0.5
SECOND_SHARE = 0.5
COMPOUND_PART = 4  # a question word this long also matches compounds ending with it
FACT_INTENTS = frozenset({"time", "phone", "location", "payment"})
NEEDED = ("price", "payment", "upfront", "credit")  # asked for, the quote must hold one

_GENERIC_WORDS = """go come make take give help need want use work run start stop find look see
    tell know think try let put keep ask say offer provide accept handle check done new old good
    great best better big small large little long short high low first last next other same
    different right wrong time day week month year thing stuff people person way lot kind type
    sort part place home house job question info information problem issue today tomorrow
    tonight yesterday night morning evening afternoon name someone anyone anything something
    everything service option available possible sure free company business method hope
    wonder special plan mom dad mother father son daughter wife husband friend happen mean
    allow include cover stay arrive wait worry matter"""
_ACTION_WORDS = """fix repair replace install unclog unblock clean clear book schedule reschedule
    cancel change move pay order bring send inspect visit write"""
_INTENT_WORDS = """cost price pricing charge fee rate expensive cheap afford discount deal promo
    coupon sale rebate open close closed hour phone call number telephone reach text contact cell
    mobile address located location direction minute dollar buck euro cent notice upfront deposit
    instalment installment financing prepay"""
_SYNONYMS = ["bbq barbecue", "kid child", "bike bicycle", "hr hour", "min minute"]
_SYNONYMS += ["appt appointment", "tv television", "doc doctor", "pic photo"]
_WIDER = {  # one way: "saturday" does not mean "weekend"
    "weekend": ("saturday", "sunday"),
    "weekday": ("monday", "tuesday", "wednesday", "thursday", "friday"),
}

_DAY = r"(mon|tues|wednes|thurs|fri|satur|sun)days?"
_INTENTS = {
    "price": r"\bhow much\b|\b(costs?|price[sd]?|pricing|charges?|fees?|rates?|expensive"
    r"|cheap(er|est)?|afford|dollars?|bucks?)\b",
    "payment": r"\b(payment (methods?|options?|types?)|forms? of payment|ways? to pay"
    r"|how (can|do|should|would) (i|we|you) pay|pay (by|with|using) \w+"
    r"|(accept|take) (\w+ )?(cards?|cash|credit|debit|cheques?|checks?|visa|amex|mastercard))\b",
    "discount": r"\b(discounts?|deals?|promo(tion)?s?|coupons?|sales?|rebates?)\b",
    "time": rf"\b(open(s|ing)?|clos(e|es|ed|ing)|hours|tonight|night|weekends?|mornings?"
    rf"|evenings?|afternoons?|holidays?|what time|{_DAY})\b",
    "phone": r"\b(phone|calls?|calling|number|telephone|tel|reach|text|contact|cell|mobile)\b",
    "location": r"\b(where|address|located|location|directions|find you)\b",
    "upfront": r"\b(up ?front|deposits?|prepa(y|id|yment))\b"
    r"|\bpay\w* (\w+ ){0,3}(in advance|ahead|beforehand)\b",
    "credit": r"\b(instal?lments?|payment plans?|financ(e|ing))\b"
    r"|\bpay\w* (\w+ ){0,3}(off|later|monthly|over time)\b",
    "duration": r"\bhow (long|many (minutes|hours|days|weeks)|much (notice|time)|early|soon)\b"
    r"|\b(minutes?|mins|in advance|ahead of time)\b|\bhow far (in advance|ahead)\b",
}
_INTENT_RES = {name: re.compile(pattern) for name, pattern in _INTENTS.items()}
_STREET = r"(Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Place|Pl|Court|Ct"
_STREET += r"|Crescent|Cres|Highway|Hwy|Parkway|Square|Terrace|Trail)\b"
_ENTITIES = {  # what a unit can answer; matched case-insensitively on the original text
    "price": r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(dollars?|usd|cad|eur|euros?)\b|\bfree\b"
    r"|\bno (\w+ )?(charge|cost|fee)\b",
    "payment": r"\b(visa|master\s?card|amex|american express|debit|(credit )?cards?|cash|cheques?"
    r"|e-?transfers?|paypal|apple pay|google pay|interac|venmo|zelle|invoic(e|es|ed|ing))\b",
    "discount": r"\d\s?%|\bpercent\b|\bdiscount|[$€£]\s?\d[\d,.]*\s+off\b",
    "time": rf"\b\d{{1,2}}(:\d\d)?\s?[ap]\.?m\b|\b\d{{1,2}}:\d\d\b|\b24/7\b|\b24 hours\b|\bnoon\b"
    rf"|\bmidnight\b|\b({_DAY}|holidays?)\b.*\b(open|closed)\b|\b(open|closed)\b.*\b{_DAY}",
    "phone": r"(\+\d{1,3}[\s.-]?)?(\(\d{3}\)|\b\d{3})[\s.-]?\d{3}[\s.-]\d{4}\b",
    "location": rf"\b\d{{1,5}}[a-z]?\s+((?-i:[A-Z])[\w'.-]*\s+){{1,4}}(?-i:{_STREET})|^Address:",
    "upfront": r"\b(deposits?|(paid|payable|due) (\w+ )?in (full|advance)|up ?front|prepaid"
    r"|prepayment)\b",
    "credit": r"\b((paid|payable|due) (\w+ )?in full|payment plans?|instal?lments?|financ(e|ing)"
    r"|balance is due)\b",
    "duration": r"\b\d+([.,]\d+)?(\s?(-|to)\s?\d+)?\+?\s*(minutes?|mins?|hours?|hrs?|days?|weeks?"
    r"|months?|years?)\b|\b(an?|one|half an?) (minute|hour|day|week|month|year)\b",
}
_ENTITY_RES = {name: re.compile(pattern, re.I) for name, pattern in _ENTITIES.items()}
_ASK_WORDS = r"how|what|when|where|which|who|why|do|does|can|could|is|are|should|will|would"
_ASKS = re.compile(rf"\?|\b({_ASK_WORDS})\b", re.I)
_OPENS = re.compile(rf"\s*({_ASK_WORDS})\b", re.I)
_PART = re.compile(
    rf"(?<=[?.!])\s+|\s*,?\s+and\s+(?=(?:{_ASK_WORDS})\b)|,\s*(?=(?:how|what|when|where|which|who|why)\b)",
    re.I,
)
_QA = re.compile(r"\s*Q:\s*(.*?)\n\s*A:\s*(.*)\Z", re.S)
_MARKER = re.compile(r"^\s*([-*•+>]|\d{1,2}[.)])\s+")
_ROW = re.compile(r"^[^:;]{1,40}:\s[^;]*(;\s*[^:;]{1,40}:\s[^;]*)+$")


@dataclass(frozen=True)
class Answer:
    sentences: list[str]
    sources: list[dict]  # {"source": ..., "uri": ...} of the passages quoted, in order
    support: float
    listing: bool = False  # the sentences are a list's items: one a line when shown
    unanswered: list[str] = field(default_factory=list)  # parts of the question left open


@dataclass(frozen=True)
class _Unit:
    text: str
    passage: int
    index: int  # position among its passage's units, for continuations
    stems: frozenset[str]
    context: frozenset[str]  # headings and the FAQ / Q&A question above it
    entities: frozenset[str]
    item: bool = False  # a whole list item or table row, not a sentence of prose
    heading: str = ""  # the nearest heading or FAQ / Q&A question, as written

    @property
    def meaning_text(self) -> str:
        """What the unit's vector is computed on: "No." means nothing without its question."""
        return f"{self.heading}: {self.text}" if self.heading else self.text


@dataclass(frozen=True)
class _Concept:
    stems: frozenset[str]
    weight: float  # 1.0 when specific, GENERIC_WEIGHT otherwise
    action: bool = False


_GENERIC, _ACTIONS, _INTENT_STEMS = (
    frozenset(_stem(w) for w in words.split())
    for words in (_GENERIC_WORDS, _ACTION_WORDS, _INTENT_WORDS)
)
_SYNONYM_STEMS = {_stem(w): {_stem(x) for x in g.split()} for g in _SYNONYMS for w in g.split()}


def _units(passages: list[dict]) -> list[_Unit]:
    """Every passage's quotable units, each with the context that introduces it."""
    units: list[_Unit] = []
    for n, passage in enumerate(passages):
        text, source = str(passage.get("text") or ""), str(passage.get("source") or "")
        units += [replace(u, passage=n) for u in _passage_units(text, source)]
    return units


@lru_cache(maxsize=4096)
def _passage_units(text: str, source: str) -> tuple[_Unit, ...]:
    """One passage's units (as passage 0): read once per process, as the same passages
    come back turn after turn."""
    units: list[_Unit] = []
    n = 0  # the caller sets the passage's place
    base = source.split(" > ", 1)[1] if " > " in source else ""
    base = source.removeprefix("Q&A:") if source.startswith("Q&A:") else base
    section = base.rsplit(" > ", 1)[-1].strip()
    qa = _QA.match(text)
    if qa:
        base, text, section = f"{base} {qa.group(1)}", qa.group(2), qa.group(1).strip()
    local, index = "", 0
    for raw in text.splitlines():
        line = _MARKER.sub("", raw).strip()
        if line.startswith("#") or (line.endswith("?") and len(_sentences(line)) == 1):
            local = line.lstrip("#")  # a heading or FAQ question introduces what follows
            continue
        context = _stems(f"{base} {local}")
        row = bool(_ROW.match(line))
        pieces = [line] if row else _sentences(line)
        item = row or (bool(_MARKER.match(raw)) and len(pieces) == 1)
        for piece in pieces:
            entities = frozenset(k for k, rx in _ENTITY_RES.items() if rx.search(piece))
            heading = (local or section).strip()
            units.append(_Unit(piece, n, index, _stems(piece), context, entities, item, heading))
            index += 1
    return tuple(units)


def _concepts(
    question: str, df: Counter[str], n_units: int, present: frozenset[str]
) -> list[_Concept]:
    """Informative question words, each marked specific or generic (see module docstring)."""
    concepts: dict[frozenset[str], _Concept] = {}
    words = _words(question)
    # "electric bike" is the knowledge's "e-bike", "electronic mail" its "email"
    initials = {
        n: {a[0] + _stem(b), a[0] + b} & present
        for n, (a, b) in enumerate(itertools.pairwise(words))
        if a.isalpha() and len(b) >= 3
    }
    for n, word in enumerate(words):
        stem = _stem(word)
        if word in _STOP or stem in _STOP or stem in _INTENT_STEMS:
            continue
        stems = frozenset({stem, *_SYNONYM_STEMS.get(stem, ()), *_WIDER.get(stem, ())})
        stems |= initials.get(n, set()) | initials.get(n - 1, set())
        if len(stem) >= COMPOUND_PART:  # "chip" is in "microchip", "bike" in "ebike"
            stems |= {p for p in present if stem in p and p.isalpha() and p.endswith(stem)}
            stems |= {  # and the other way: "eyelash" asks about "lash" services
                p for p in present if len(p) >= COMPOUND_PART and p.isalpha() and stem.endswith(p)
            }
            stems |= {p for p in present if _derived(stem, p) or _derived(p, stem)}
        if stem in _ACTIONS:
            if stems & present:  # the business uses the word ("cleaning"): it matters
                concepts[stems] = _Concept(stems, 1.0, action=True)
            continue
        domain = df[stem] >= 4 and df[stem] >= n_units / 2
        generic = stem in _GENERIC or word.isdigit() or domain
        concepts[stems] = _Concept(stems, GENERIC_WEIGHT if generic else 1.0)
    return list(concepts.values())


_DERIVATIONS = ("al", "ery", "ry", "ion", "ation", "ment", "er", "or")


def _derived(base: str, word: str) -> bool:
    """Whether ``word`` is ``base`` with a derivational ending: "rent" -> "rental",
    "deliver" -> "delivery", "install" -> "installation"."""
    ending = word[len(base) :]
    return len(base) >= COMPOUND_PART and word.startswith(base) and ending in _DERIVATIONS


def answer_from(
    question: str,
    passages: list[dict],
    *,
    max_sentences: int = 2,
    meaning: Meaning | None = None,
    language: str = "en",
) -> Answer | None:
    """Quote what supports an answer to ``question``; None when the passages do not.

    A question in two parts ("what should I bring, and how early should I come?") is
    answered part by part; the parts the passages do not answer are listed in
    ``Answer.unanswered``. A question in another ``language`` is answered by rule 9, with
    ``meaning`` from a multilingual model.
    """
    units = _units(passages or [])
    if not units or max_sentences < 1:
        return None
    if language != "en":
        return _crosslingual(question, passages, units, meaning) if meaning else None
    question, background = _focus(question)
    parts = _parts(question)
    if len(parts) < 2:
        return _answer_one(question, background, passages, units, max_sentences, meaning)
    found: list[tuple[str, Answer | None]] = []
    for part in parts:
        answer = _answer_one(part, background, passages, units, max_sentences, meaning)
        if answer is None and found and found[-1][1] is not None:
            answer = _follow_up(part, found[-1][1], units, passages)
        found.append((part, answer))
    answered = [a for _, a in found if a is not None]
    if not answered:
        return None
    quoted = [u for u in units if any(u.text in a.sentences for a in answered)]
    entities = frozenset().union(*(u.entities for u in quoted))
    sentences: list[str] = []
    for answer in answered:
        sentences += [s for s in answer.sentences if s not in sentences]
    listing = any(a.listing for a in answered)  # a list is kept whole, one item a line
    sources = [s for a in answered for s in a.sources]
    return Answer(
        sentences if listing else sentences[: max_sentences + 1],
        [s for n, s in enumerate(sources) if s not in sources[:n]],
        round(min(a.support for a in answered), 3),
        listing=listing,
        unanswered=[p for p, a in found if a is None and not _asked_entities(p) <= entities],
    )


_METHOD_STEMS = re.compile(
    r"(visa|master|amex|american|debit|credit|card|cash|chequ|check|e?transfer|paypal|venmo"
    r"|zelle|interac|invoic)"
)


def _follow_up(
    part: str, previous: Answer, units: list[_Unit], passages: list[dict]
) -> Answer | None:
    """A part about what the previous part was about ("Do you do on-site visits? How much
    are they?"): the same passage's unit with what it asks for."""
    if _stems(part) - _GENERIC - _INTENT_STEMS - _ACTIONS:
        return None  # it names something of its own
    asked = _intents(part) & {"price", "time", "duration", "phone", "location", "payment"}
    cited = {
        n
        for n, p in enumerate(passages)
        if {"source": p.get("source", ""), "uri": p.get("uri", "")} in previous.sources
    }  # "Yes." is in many passages: the one quoted is
    quoted = [u for u in units if u.text in previous.sentences and u.passage in cited]
    if not asked or not quoted or asked & frozenset().union(*(u.entities for u in quoted)):
        return None
    source = quoted[-1].passage
    after = [u for u in units if u.passage == source and u.index > quoted[-1].index]
    found = next((u for u in after if asked <= u.entities), None)
    return _answer([found], passages, previous.support) if found else None


def _payment_method(concept: _Concept) -> bool:
    return any(_METHOD_STEMS.fullmatch(stem) for stem in concept.stems)


def _intents(question: str) -> set[str]:
    """What a question asks for: a price, a time, a phone number... "How much notice" asks
    for an amount of notice, not of money."""
    folded = fold(question, english=True)
    found = {name for name, rx in _INTENT_RES.items() if rx.search(folded)}
    quantity = re.search(r"\bhow much ([a-z]+)", folded)
    amount_of = quantity and quantity.group(1) not in _STOP | {"money", "cash", "extra", "more"}
    if amount_of and not _INTENT_RES["price"].search(folded.replace("how much", "")):
        found.discard("price")
    return found


def _asked_entities(question: str) -> set[str]:
    """What a part asks for, never empty: a part that asks for nothing in particular
    ("do you do on-site visits?") is answered only by its own quote."""
    return _intents(question) or {"?"}


def _focus(text: str) -> tuple[str, str]:
    """The sentences that ask, and the rest: "My old lab can barely walk now." only sets the
    scene for the question after it, so a word of it the knowledge lacks blocks nothing."""
    pieces = re.split(rf"(?<=[.!?])\s+|,\s+(?=(?:{_ASK_WORDS})\b)", text.strip())
    sentences = [s for s in pieces if s.strip(" .!?")]
    asking = [s for s in sentences if s.rstrip().endswith("?") or _OPENS.match(s)]
    if not asking or len(asking) == len(sentences):
        return text, ""
    return " ".join(asking), " ".join(s for s in sentences if s not in asking)


def _parts(question: str) -> list[str]:
    """A question's separately answerable parts: clauses that each ask something."""
    pieces = [p.strip(" ,;") for p in _PART.split(question.strip()) if p and p.strip(" ,;?")]
    asking = [p for p in pieces if _ASKS.search(p) and len(_words(p)) >= 3]
    return asking if len(asking) >= 2 and len(asking) == len(pieces) else [question]


def _answer_one(
    question: str,
    background: str,
    passages: list[dict],
    units: list[_Unit],
    max_sentences: int,
    meaning: Meaning | None,
) -> Answer | None:
    intents = _intents(question)
    df = Counter(stem for unit in units for stem in unit.stems)
    present = frozenset().union(*(u.stems | u.context for u in units))
    concepts = _concepts(question, df, len(units), present)
    if "payment" in intents:  # "can I pay with Amex?": the methods taken answer it
        concepts = [c for c in concepts if c.stems & present or not _payment_method(c)]
    asked = frozenset().union(*(c.stems for c in concepts))
    concepts += [
        replace(c, weight=GENERIC_WEIGHT, action=False)
        for c in _concepts(background, df, len(units), present)
        if not c.stems & asked
    ]
    specific = [c for c in concepts if c.weight == 1.0]
    quoted = _qa_answer(question, passages, units, specific, intents, max_sentences)
    if quoted is None and meaning is not None:
        quoted = _faq_answer(question, passages, units, intents, max_sentences, meaning)
    if quoted is None and intents & TERMS:
        quoted = _terms(passages, units, concepts, intents & TERMS, present)
    if quoted is None:
        quoted = _lexical(passages, units, concepts, intents, present, df, max_sentences)
    if quoted is None and meaning is not None:
        quoted = _semantic(question, passages, units, concepts, intents, present, meaning)
    if quoted is None and meaning is not None:
        quoted = _bridged(question, passages, units, concepts, intents, present, meaning)
    if quoted is None and background and not intents and not specific:  # "what do I do?"
        quoted = _scene(background, passages, units, df, present)
    if quoted is None and meaning is not None:
        quoted = _qa_in_other_words(question, passages, units, concepts, intents, meaning)
    return quoted


def _lexical(
    passages: list[dict],
    units: list[_Unit],
    concepts: list[_Concept],
    intents: set[str],
    present: frozenset[str],
    df: Counter[str],
    max_sentences: int,
) -> Answer | None:
    """Rules 3 to 6: the best unit by the question's words, or None."""
    specific = [c for c in concepts if c.weight == 1.0]
    if any(not c.stems & present for c in specific):
        return None  # the visitor names something the knowledge never mentions
    topical = [c for c in concepts if c.stems & present and not c.stems & _GENERIC]
    if not specific and not intents & FACT_INTENTS and not ("duration" in intents and topical):
        return None  # "how long does it take?" needs to say what takes long

    n = len(units)
    idf = {c: 1 + math.log(n / max(1, min(n, sum(df[s] for s in c.stems)))) for c in specific}

    def score(unit: _Unit) -> float:
        total = INTENT_BONUS * len(intents & unit.entities)
        for concept in (c for c in concepts if c.weight < 1.0):
            if concept.stems & unit.stems:
                total += concept.weight
            elif concept.stems & unit.context:
                total += CONTEXT_SHARE * concept.weight
        for concept, weight in idf.items():
            if concept.stems & unit.stems:
                total += weight
            elif concept.stems & unit.context:
                total += CONTEXT_SHARE * weight
        return total

    def prior(unit: _Unit) -> float:
        similarity = float(passages[unit.passage].get("similarity") or 0.0)
        return 0.5 * similarity + 0.25 * (1 - unit.passage / len(passages))

    scores = {id(u): score(u) for u in units}
    ranked = sorted(units, key=lambda u: (-scores[id(u)] - prior(u), u.passage, u.index))
    best = ranked[0]
    if scores[id(best)] <= 0:
        return None
    if not specific and not intents & FACT_INTENTS:  # a duration: what the topic takes
        on_topic = [u for u in ranked if any(c.stems & (u.stems | u.context) for c in topical)]
        best = next((u for u in on_topic if "duration" in u.entities), None)
        return _answer([best], passages, 0.5) if best else None
    if not specific:
        top = [u for u in ranked if scores[id(u)] == scores[id(best)]]
        listing = _listing(units, top, intents)
        if listing:
            answer = _supported(listing, passages, specific, intents)
            return replace(answer, listing=True) if answer else None
    chosen = [best]

    def adds(unit: _Unit) -> bool:
        """Whether a unit brings a specific concept or an asked-for entity the quote lacks."""
        stems = frozenset().union(*(u.stems for u in chosen))
        entities = frozenset().union(*(u.entities for u in chosen))
        new_concept = any(c.stems & unit.stems and not c.stems & stems for c in specific)
        return new_concept or bool(intents & unit.entities - entities)

    following = [u for u in units if u.passage == best.passage and u.index == best.index + 1]
    if following and max_sentences > 1:
        nxt = following[0]
        lead_in = best.text.endswith(("?", ":"))
        listing = not specific and bool(intents & best.entities & nxt.entities)
        if lead_in or (len(best.text) < SHORT_UNIT and (adds(nxt) or listing)):
            chosen.append(nxt)
    for unit in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        strong = scores[id(unit)] >= SECOND_SHARE * scores[id(best)]
        relevant = any(c.stems & unit.stems for c in specific)
        if strong and relevant and unit not in chosen and adds(unit):
            chosen.append(unit)
    return _supported(chosen, passages, specific, intents)


# Meaning (rule 7): with sentence vectors, a unit that says what was asked in other
# words can answer. Cosines are all-MiniLM-L6-v2's, between a question and a unit.
SEMANTIC_CANDIDATES = 16  # units embedded per question (cached across turns)
SEMANTIC_MIN = 0.45  # measured on three businesses: below it, look-alikes win


def _semantic(
    question: str,
    passages: list[dict],
    units: list[_Unit],
    concepts: list[_Concept],
    intents: set[str],
    present: frozenset[str],
    meaning: Meaning,
) -> Answer | None:
    """Rule 7: when the words alone decide nothing, the unit closest in meaning answers,
    provided the knowledge knows every specific word of the question (a word it never
    uses, "MRI", "ceviche", means the answer would be about something else), the unit
    itself holds at least half of them, and it carries what a price question needs.
    One unknown word among two or more known ones ("her rabies shot") is the visitor's
    phrasing when a unit holds all the known ones, unless it is what is asked for ("how
    many calories are in the enchiladas?").
    """
    specific = [c for c in concepts if c.weight == 1.0]
    known = [c for c in specific if c.stems & present]
    unknown = [c for c in specific if not c.stems & present]
    if not specific or len(unknown) > 1 or (unknown and len(known) < 2):
        return None
    if any(c.stems & _asked_for(question) for c in unknown):
        return None  # "how many calories": what is asked must be known

    def holds(unit: _Unit) -> bool:
        have = sum(1 for c in known if c.stems & (unit.stems | unit.context))
        enough = have == len(known) if unknown else 2 * have >= len(specific)
        return enough and all(need in unit.entities for need in intents.intersection(NEEDED))

    candidates = [u for u in _candidates(units, concepts) if holds(u)]
    if not candidates:
        return None
    vectors = meaning.vectors([question] + [u.meaning_text for u in candidates])
    similarity = vectors[1:] @ vectors[0]
    first = int(np.argmax(similarity))
    if similarity[first] < SEMANTIC_MIN:
        return None
    best = candidates[first]
    chosen = [best]
    following = [u for u in units if u.passage == best.passage and u.index == best.index + 1]
    if following and (len(best.text) < SHORT_UNIT or best.text.endswith(("?", ":"))):
        chosen.append(following[0])  # "No." and the reason after it
    return _answer(chosen, passages, float(similarity[first]))


# Rule 10: words the knowledge never uses, said in its words. Cosines are all-MiniLM-L6-v2's;
# measured on three businesses: a right unit leads the rest by 0.14 to 0.26 where a look-alike
# ("shrimp ceviche" / "chicken enchiladas", "boiler" / "water heater") leads by 0.06 at most;
# a synonym or the class of a thing scores 0.53 to 0.83 against its word ("teeth" / "dental",
# an animal / its class), unrelated words below 0.45.
BRIDGE_TOP = 0.4  # the unit's cosine with the question
BRIDGE_MARGIN = 0.12  # ahead of every other candidate unit by this much
BRIDGE_WORD = 0.5  # a knowledge word this close to the visitor's stands for it


def _bridged(
    question: str,
    passages: list[dict],
    units: list[_Unit],
    concepts: list[_Concept],
    intents: set[str],
    present: frozenset[str],
    meaning: Meaning,
) -> Answer | None:
    """Rule 10: the visitor names things the knowledge calls otherwise ("teeth cleaning" /
    "dental care", "electric scooters" / "e-scooters"). The unit closest in meaning answers when
    it is a clear winner (``BRIDGE_TOP``, ``BRIDGE_MARGIN``) and every unknown word or run of
    words has a close word (``BRIDGE_WORD``) in it, its heading or the unit after it (then
    quoted too: "We repair road bikes." "We do not work on scooters."). What is asked for
    ("how many calories") and names ("Royal Canin", "MRI") are never bridged: another
    thing with a similar name is another thing."""
    specific = [c for c in concepts if c.weight == 1.0]
    unknown = [c for c in specific if not c.stems & present]
    if not unknown or any(c.stems & _asked_for(question) for c in unknown):
        return None
    phrases = _unknown_phrases(question, unknown)
    if not phrases:
        return None
    candidates = _candidates(units, concepts)
    if len(candidates) < 2:
        return None
    vectors = meaning.vectors([question] + [u.meaning_text for u in candidates])
    similarity = vectors[1:] @ vectors[0]
    order = np.argsort(-similarity)
    top, runner_up = float(similarity[order[0]]), float(similarity[order[1]])
    best = candidates[int(order[0])]
    if top < BRIDGE_TOP or top - runner_up < BRIDGE_MARGIN:
        return None
    if not all(need in best.entities for need in intents & set(NEEDED)):
        return None
    following = [u for u in units if u.passage == best.passage and u.index == best.index + 1]
    chosen = [best]
    for phrase in phrases:  # in the unit, or closer in the one after ("scooters")
        here = _closeness(phrase, best.meaning_text, meaning)
        after = _closeness(phrase, following[0].text, meaning) if following else 0.0
        if max(here, after) < BRIDGE_WORD:
            return None
        if after > here:
            chosen[1:] = following[:1]
    known = [c for c in specific if c not in unknown]
    stems = frozenset().union(*(u.stems | u.context for u in chosen))
    held = len(unknown) + sum(1 for c in known if c.stems & stems)
    if 2 * held < len(specific):
        return None
    return _answer(chosen, passages, top)


def _unknown_phrases(question: str, unknown: list[_Concept]) -> list[str]:
    """The visitor's own words for the unknown concepts, a run of them as one phrase
    ("electric scooters"); empty when one of them is a name (capitalised inside the
    sentence, or in capitals: "Royal Canin", "MRI")."""
    stems = frozenset().union(*(c.stems for c in unknown))
    tokens = re.findall(r"[\w'\u2019-]+|[^\w\s]", question)
    phrases: list[list[str]] = []
    last = -2  # the place of the last unknown word
    for n, token in enumerate(tokens):
        word = _words(token)
        if not (word and _stem(word[0]) in stems):
            continue
        sentence_start = n == 0 or tokens[n - 1] in (".", "!", "?", "¿", "¡")
        if (token[:1].isupper() and not sentence_start) or (token.isupper() and len(token) > 1):
            return []
        if last == n - 1:
            phrases[-1].append(token)
        else:
            phrases.append([token])
        last = n
    return [" ".join(p) for p in phrases]


def _closeness(phrase: str, text: str, meaning: Meaning) -> float:
    """The cosine of ``phrase`` with the word of ``text`` closest to it in meaning."""
    candidates = sorted({w for w in _words(text) if w.isalpha() and len(w) >= 3} - _STOP)
    if not candidates:
        return 0.0
    vectors = meaning.vectors([phrase, *candidates])
    return float(np.max(vectors[1:] @ vectors[0]))


def _close_word(phrase: str, text: str, meaning: Meaning) -> bool:
    """Whether a word of ``text`` means about what ``phrase`` means."""
    return _closeness(phrase, text, meaning) >= BRIDGE_WORD


# Rule 11: "the basement is flooding and it's Sunday night, what do I do?"
SCENE_MIN = 2  # the scene's specific words one passage must hold
ACTIONS = frozenset({"phone", "location"})  # what to do: whom to call, where to go


def _scene(
    background: str,
    passages: list[dict],
    units: list[_Unit],
    df: Counter[str],
    present: frozenset[str],
) -> Answer | None:
    """Rule 11: a question that asks nothing of its own ("what do I do?", "any advice?")
    is about the scene set before it. The passage that holds most of the scene's specific
    words (at least ``SCENE_MIN`` and more than half of them) answers with its sentence
    that says whom to call or where to go and shares most of them."""
    scene = [c for c in _concepts(background, df, len(units), present) if c.weight == 1.0]
    if not scene:
        return None

    def held(stems: frozenset[str]) -> int:
        return sum(1 for c in scene if c.stems & stems)

    coverage = {
        n: held(frozenset().union(*(u.stems | u.context for u in units if u.passage == n)))
        for n in {u.passage for u in units}
    }
    best = min(coverage, key=lambda n: (-coverage[n], n))
    if coverage[best] < SCENE_MIN or 2 * coverage[best] <= len(scene):
        return None
    acting = [u for u in units if u.passage == best and u.entities & ACTIONS and held(u.stems)]
    if not acting:
        return None
    chosen = max(acting, key=lambda u: (held(u.stems), -u.index))
    return _answer([chosen], passages, coverage[best] / len(scene))


TERMS = frozenset({"upfront", "credit"})  # when to pay: before, or later in parts


def _terms(
    passages: list[dict],
    units: list[_Unit],
    concepts: list[_Concept],
    asked: set[str],
    present: frozenset[str],
) -> Answer | None:
    """Rule 13: when to pay ("anything upfront?", "in instalments?") is answered by a sentence
    that states payment terms (a deposit, payment due in full...): the one about what the
    visitor names ("the catering deposit"), or else one under an FAQ question about terms
    ("Do you offer payment plans?"), which holds for every service. "Pay" itself is what
    the intent says, not a topic."""
    specific = [c for c in concepts if c.weight == 1.0 and not (c.action and "pay" in c.stems)]
    if any(not c.stems & present for c in specific):
        return None  # the visitor names something the knowledge never mentions
    stating = [u for u in units if asked & u.entities]

    def score(unit: _Unit) -> float:
        total = 0.0
        for concept in concepts:
            weight = concept.weight if concept in specific or concept.weight < 1.0 else 0.0
            if concept.stems & unit.stems:
                total += weight
            elif concept.stems & unit.context:
                total += CONTEXT_SHARE * weight
        similarity = float(passages[unit.passage].get("similarity") or 0.0)
        return total + 0.5 * similarity + 0.25 * (1 - unit.passage / len(passages))

    about = [u for u in stating if any(c.stems & (u.stems | u.context) for c in specific)]
    general = [u for u in stating if any(_ENTITY_RES[k].search(u.heading) for k in asked)]
    pool = (about or general) if specific else stating
    if not pool:
        return None
    best = max(pool, key=lambda u: (score(u), -u.passage, -u.index))
    return _answer([best], passages, 0.5)  # not the FAQ's "No.": it answers the FAQ's question


def _qa_in_other_words(
    question: str,
    passages: list[dict],
    units: list[_Unit],
    concepts: list[_Concept],
    intents: set[str],
    meaning: Meaning,
) -> Answer | None:
    """Rule 12: the custom Q&A that retrieval ranks first, asked in other words ("Can a
    mechanic come to our office?" / "Do you do on-site visits?"): it answers when the
    visitor's question shares a word with the Q&A's, and every specific word of the
    visitor's that the Q&A does not use has a close word in it (``BRIDGE_WORD``: "mechanic"
    / "technician"); a name never
    does. The admin wrote the Q&A for this: an unrelated question shares no word with it,
    or brings a word it has nothing close to ("a new boiler for my house")."""
    qa = _QA.match(str(passages[0].get("text") or ""))
    answer = [u for u in units if u.passage == 0]
    if not qa or not answer:
        return None
    mine = frozenset().union(_stems(question), *(c.stems for c in concepts)) - _INTENT_STEMS
    if not (_stems(qa.group(1)) - _INTENT_STEMS) & mine:
        return None
    held = frozenset().union(*(u.stems | u.context for u in answer))
    missing = [c for c in concepts if c.weight == 1.0 and not c.stems & held]
    phrases = _unknown_phrases(question, missing) if missing else []
    if missing and not phrases:
        return None
    if any(not _close_word(p, f"{qa.group(1)} {qa.group(2)}", meaning) for p in phrases):
        return None
    lead_in = len(answer[0].text) < SHORT_UNIT or answer[0].text.endswith(":")  # "Yes."
    quote = answer[: 1 + lead_in]
    if "price" in intents:  # asked the price too: the sentence that has it
        priced = next((u for u in answer if "price" in u.entities), None)
        if priced is None:
            return None
        quote = [*quote[:1], priced] if priced not in quote else quote
    return _answer(quote, passages, float(passages[0].get("similarity") or 0.0))


# Rule 9: questions in other languages. Cosines are multilingual USE v3's; measured on
# three businesses, a right unit scores 0.28 to 0.50 against its question.
CROSS_ANCHORED = 0.25  # with a word in common (a name, a cognate, a weekday)
CROSS_ALONE = 0.45  # with none, and ahead of the next unit by CROSS_MARGIN
CROSS_MARGIN = 0.08
ANCHOR_BONUS = 0.1  # a shared name or cognate outweighs a small difference in meaning
COGNATE_PREFIX = 5  # "deposito" / "deposit", "examen" / "exam" (a whole short word counts)
_FOREIGN_INTENTS = {
    "price": r"\b(cuanto|cuesta|precios?|combien|coute?|prix|tarifs?|kostet|preise?|wie viel"
    r"|quanto|custa|costa|prezz[oi]|precos?|hoeveel|kost|prijs)\b",
    "time": r"\b(horarios?|horas?|abiert[oa]s?|abren|cierran|heures?|ouverte?s?|fermez?|horaires?"
    r"|uhr|geoffnet|offnungszeiten|schliessen|abert[oa]s?|fecha|orari|apert[oa]|chiude"
    r"|geopend|sluit|openingstijden|open)\b",
    "phone": r"\b(telefono|telephone|telefon|numero|nummer)\b",
    "location": r"\b(donde|direccion|adresse|onde|endereco|dove|indirizzo|waar|adres)\b",
}
_FOREIGN_STOP_WORDS = """
    hola gracias para pero como esta este esto estos tiene tienen tengo donde cuando cuanto
    cuanta cuesta puedo quiero somos nuestro nuestra sobre hasta desde todo todos mucho bonjour
    merci pour avec dans sont avez vous nous quelle quel combien votre notre jusqu faut peux
    cette tout tous aussi hallo guten danke beim sind haben eine einen einem kann konnen ihre
    unser unsere nicht auch gibt wann viel voces quanto custa obrigado onde quando nosso nossa
    isso avete sono costa ciao buongiorno grazie dove nostro nostra questo questa hebben jullie
    zijn voor waar wanneer onze deze maar hoeveel"""
_FOREIGN_STOP = frozenset(_FOREIGN_STOP_WORDS.split())
_FOREIGN_INTENT_RES = {name: re.compile(pattern) for name, pattern in _FOREIGN_INTENTS.items()}
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _crosslingual(
    question: str, passages: list[dict], units: list[_Unit], meaning: Meaning
) -> Answer | None:
    """Rule 9: the unit closest in meaning across languages, with what was asked."""
    folded = fold(question, english=True)
    intents = {name for name, rx in _FOREIGN_INTENT_RES.items() if rx.search(folded)}
    words = set(re.findall(r"[a-z0-9]+", folded))
    for names in WEEKDAYS.values():
        for day, english in zip(names, _ENGLISH_DAYS, strict=True):
            day = fold(day, english=True).split("-")[0]  # "segunda-feira": "segunda"
            if any(w.startswith(day) and len(w) <= len(day) + 2 for w in words):
                words.add(english)  # "sábados", "samstags", "zaterdags" too
    df = Counter(stem for unit in units for stem in unit.stems | unit.context)
    common = {s for s, n in df.items() if n >= max(4, len(units) / 2)}

    def anchored(unit: _Unit) -> bool:
        return any(
            _cognate(word, stem)
            for word in words
            if len(word) >= 4 and word not in _STOP | _FOREIGN_STOP
            for stem in (unit.stems | unit.context) - common - _GENERIC
        )

    needed = intents & {"price", "time", "phone", "location"}
    candidates = _on_the_day([u for u in units if needed <= u.entities], words & set(_ENGLISH_DAYS))
    if not candidates:
        return None
    vectors = meaning.vectors([question] + [u.meaning_text for u in candidates])
    similarity = vectors[1:] @ vectors[0]
    translated = _translations(question, candidates, common, meaning)
    anchors = np.array(
        [anchored(u) or len(translated[n]) >= CROSS_WORDS for n, u in enumerate(candidates)]
    )
    order = np.argsort(-(similarity + ANCHOR_BONUS * anchors))
    first = int(order[0])
    top = float(similarity[first])
    runner_up = max((float(similarity[i]) for i in order[1:]), default=0.0)
    sure = top >= CROSS_ALONE and top - runner_up >= CROSS_MARGIN
    if not (top >= CROSS_ANCHORED and anchors[first]) and not sure:
        return None
    best = candidates[first]
    chosen = [best]
    following = [u for u in units if u.passage == best.passage and u.index == best.index + 1]
    short = len(best.text) < SHORT_UNIT and not best.item and not best.entities  # "Yes."
    if following and (short or best.text.endswith(("?", ":"))):
        chosen.append(following[0])  # "Of course!" and what it grants, "Burst pipe?" whom to call
    return _answer(chosen, passages, top)


_DAY_RANGE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\s*(?:-|\u2013|to|through"
    r"|thru|until)\s*(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b"
)
_DAY_NAME = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b")


def days_named(text: str) -> frozenset[str]:
    """The weekdays an English text is about, a range counting every day in it: "Tuesday
    to Friday 11 am to 2 pm" names Wednesday too."""
    folded = fold(text, english=True)
    days = set(_DAY_NAME.findall(folded))
    for first, last in _DAY_RANGE.findall(folded):
        start, end = _ENGLISH_DAYS.index(first), _ENGLISH_DAYS.index(last)
        days |= {_ENGLISH_DAYS[(start + n) % 7] for n in range((end - start) % 7 + 1)}
    return frozenset(days)


def _on_the_day(candidates: list[_Unit], asked: set[str]) -> list[_Unit]:
    """Asked about one day ("samedi", "Saturday"), the units about that day; failing those,
    the units that name no day. "Sunday: closed" never answers a question about Saturday."""
    if not asked:
        return candidates
    named = [u for u in candidates if days_named(u.text) & asked]
    return named or [u for u in candidates if not days_named(u.text)]


# A foreign word and its English translation score 0.59 to 0.94 in multilingual USE v3
# ("assegno" / "cheque", "vino" / "wine"); other pairs mostly below 0.5.
CROSS_WORD = 0.6
CROSS_WORDS = 2  # one translated word is often the topic the whole site is about ("perro")


def _translations(
    question: str, candidates: list[_Unit], common: set[str], meaning: Meaning
) -> list[frozenset[str]]:
    """For each candidate unit, the visitor's words it holds in English ("desagüe" in "Drain
    cleaning"), by word vectors of the multilingual model: a name or a cognate is not
    needed for a word to count as the visitor's."""
    asked = sorted(
        {
            w
            for w in re.findall(r"[^\W\d_]{4,}", question.lower())
            if fold(w) not in _STOP | _FOREIGN_STOP
        }
    )
    held = [
        {w for w in _words(u.meaning_text) if w.isalpha() and len(w) >= 3 and w not in _STOP}
        - {w for w in _words(u.meaning_text) if _stem(w) in common or _stem(w) in _GENERIC}
        for u in candidates
    ]
    vocabulary = sorted(set().union(*held))
    if not asked or not vocabulary:
        return [frozenset() for _ in candidates]
    vectors = meaning.vectors(asked + vocabulary)
    close = (vectors[len(asked) :] @ vectors[: len(asked)].T) >= CROSS_WORD  # word x asked
    row = {w: n for n, w in enumerate(vocabulary)}
    return [
        frozenset(asked[a] for w in words for a in np.flatnonzero(close[row[w]])) for words in held
    ]


def _cognate(word: str, stem: str) -> bool:
    """Whether a foreign word and an English stem look like the same word: they share a
    long start ("deposito" / "deposit"), or the whole stem starts the word ("examen")."""
    shared = 0
    while shared < min(len(word), len(stem)) and word[shared] == stem[shared]:
        shared += 1
    return shared >= COGNATE_PREFIX or shared == len(stem) >= 4


def _asked_for(question: str) -> frozenset[str]:
    """The word a "how many" / "what" question asks about: "calories", "size", "brand"."""
    folded = fold(question, english=True)
    found = re.findall(r"\b(?:how many|how much|what|which)\s+([a-z]+)", folded)
    return frozenset(_stem(w) for w in found if w not in _STOP)


def _candidates(units: list[_Unit], concepts: list[_Concept]) -> list[_Unit]:
    """The units worth a vector: all of the top passages, then those sharing a word."""
    top = [u for u in units if u.passage < 3]
    sharing = [
        u
        for u in units
        if u.passage >= 3 and any(c.stems & (u.stems | u.context) for c in concepts)
    ]
    return (top + sharing)[:SEMANTIC_CANDIDATES]


def _listing(units: list[_Unit], top: list[_Unit], intents: set[str]) -> list[_Unit]:
    """The list that answers a general question: the longest run of consecutive items with
    an asked-for entity in the passage of the best-scoring item (see rule 6)."""
    first = next((u for u in top if u.item and intents & u.entities), None)
    if first is None:
        return []
    runs: list[list[_Unit]] = []
    for unit in (u for u in units if u.passage == first.passage):
        if unit.item and intents & unit.entities:
            if runs and runs[-1][-1].index == unit.index - 1:
                runs[-1].append(unit)
            else:
                runs.append([unit])
    longest = max(runs, key=len)
    return longest[:MAX_LIST_ITEMS] if len(longest) >= 2 else []


def _supported(
    chosen: list[_Unit], passages: list[dict], specific: list[_Concept], intents: set[str]
) -> Answer | None:
    """The support test on the final quote: enough of the question is in it, else None."""
    stems = frozenset().union(*(u.stems for u in chosen))
    context = frozenset().union(*(u.context for u in chosen))
    entities = frozenset().union(*(u.entities for u in chosen))
    own = [c for c in specific if c.stems & stems]
    covered = len(own) + sum(
        CONTEXT_SHARE for c in specific if not c.stems & stems and c.stems & context
    )
    answered = len(intents & entities)
    if specific:
        anchored = any(not c.action for c in own) or (own and answered)
        if not anchored or covered < MIN_COVERAGE * len(specific):
            return None
    elif not intents & FACT_INTENTS & entities:
        return None
    if any(need in intents and need not in entities for need in NEEDED):
        return None  # a price question answered without a price is no answer
    support = (covered + answered) / ((len(specific) + len(intents)) or 1)
    return _answer(chosen, passages, support)


def _qa_answer(
    question: str,
    passages: list[dict],
    units: list[_Unit],
    specific: list[_Concept],
    intents: set[str],
    max_sentences: int,
) -> Answer | None:
    """A custom Q&A asked again: its answer's first sentence(s), the admin's own words."""
    for n, passage in enumerate(passages):
        qa = _QA.match(str(passage.get("text") or ""))
        answer = [u for u in units if u.passage == n]
        if not qa or not answer:
            continue
        similarity = float(passage.get("similarity") or 0.0)
        asked = _stems(qa.group(1))
        same = bool(specific) and all(c.stems & asked for c in specific)
        same = same or asked == _stems(question) != frozenset()  # asked as the admin wrote it
        held = frozenset().union(*(u.stems | u.context for u in answer))
        if not (similarity >= QA_MATCH or same) or any(not c.stems & held for c in specific):
            continue
        lead_in = len(answer[0].text) < SHORT_UNIT or answer[0].text.endswith(":")  # "Yes."
        quote = answer[: min(1 + lead_in, max_sentences)]
        held = frozenset().union(*(u.entities for u in quote))
        if "price" in intents and "price" not in held:
            continue  # "Yes." is no answer to "how much?"
        return _answer(quote, passages, max(similarity, float(same)))
    return None


# An FAQ's or Q&A's question asked in other words: cosines between two questions are far
# more telling than between a question and an answer (a paraphrase scores 0.78 to 0.85,
# a different question about the same things 0.3 to 0.45).
FAQ_MATCH = 0.7


def _faq_answer(
    question: str,
    passages: list[dict],
    units: list[_Unit],
    intents: set[str],
    max_sentences: int,
    meaning: Meaning,
) -> Answer | None:
    """The answer under an FAQ question (or a Q&A's) that is the visitor's question in
    other words ("Can I bring a bottle of wine from home?" / "Can I bring my own wine?")."""
    asked = list(dict.fromkeys(u.heading for u in units if u.heading.endswith("?")))
    if not asked:
        return None
    vectors = meaning.vectors([question, *asked])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    if similarity[best] < FAQ_MATCH:
        return None
    answer = [u for u in units if u.heading == asked[best]]
    lead_in = len(answer[0].text) < SHORT_UNIT or answer[0].text.endswith(":")  # "Yes."
    quote = [u for u in answer if u.passage == answer[0].passage][: min(1 + lead_in, max_sentences)]
    held = frozenset().union(*(u.entities for u in quote))
    if "price" in intents and "price" not in held:
        return None
    return _answer(quote, passages, float(similarity[best]))


def _answer(chosen: list[_Unit], passages: list[dict], support: float) -> Answer:
    sources: list[dict] = []
    for unit in chosen:
        passage = passages[unit.passage]
        cited = {"source": passage.get("source", ""), "uri": passage.get("uri", "")}
        if cited not in sources:
            sources.append(cited)
    return Answer([u.text for u in chosen], sources, round(min(1.0, support), 3))
