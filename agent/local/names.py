"""Spot who the visitor is in a chat message: name, email and phone, by general rules only.

A name is 1-3 Capitalised words after a self-introduction ("I'm", "my name is", "soy",
"je m'appelle", "ich bin", ...), or, when the receptionist just asked for it, a bare name at
the start of the reply. Words that people capitalise at the start of a sentence ("Sure",
"Looking", "Available") and the most common English words are not names, so "I'm visiting
from London" and "I'm Not Sure" give nothing. Phones come from libphonenumber (valid numbers
only, so prices, times and postcodes never match) and emails from a regex plus the shared
validator.
"""

from __future__ import annotations

import re

import phonenumbers

from agent.core import validation
from agent.core.errors import ValidationError

EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_NOT_PHONE_BEFORE = re.compile(  # money, or a reference number someone quotes back to us
    r"[$€£¥]\s*$|#$|\b(?:order|invoice|ref|reference|account|acct|confirmation|tracking)"
    r"(?:\s*(?:number|no\.?|nr|#))?\s*[:#]?\s*$",
    re.I,
)


def find_phones(text: str, country: str) -> list[tuple[int, int, str]]:
    """(start, end, E.164) of every valid number; prices, dates, times and postcodes never are."""
    region = country.upper() or None
    found = []
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        if _NOT_PHONE_BEFORE.search(text[: m.start]):
            continue  # "$2505550110", "order #2505550110"
        try:
            found.append((m.start, m.end, validation.phone(m.raw_string, country)))
        except ValidationError:
            continue
    return found


def find_emails(text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised address) of every syntactically valid email."""
    found = []
    for m in EMAIL.finditer(text):
        try:
            found.append((m.start(), m.end(), validation.email(m[0].rstrip("."))))
        except ValidationError:
            continue
    return found


def word_set(text: str) -> frozenset[str]:
    """Long word lists read (and review) better as plain text than as quoted literals."""
    return frozenset(text.split())


# Closed-class English words (pronouns, determiners, prepositions, auxiliaries, conjunctions,
# frequent adverbs): never a name, and never what a question is about.
FUNCTION_WORDS = word_set(
    """a about above across after again against all almost along already also although always
    am among an and another any anybody anyone anything anyway are around as at away be because
    been before being below between both but by can cannot could did do does doing down during
    each either else enough even ever every everything few for from had has have having he her
    here hers herself him himself his how however i if in inside instead into is it its itself
    just maybe me might mine more most much must my myself never no nobody none nor not nothing
    now of off often on once only onto or other others our ours out over perhaps please quite
    rather really shall she should since so some somebody someone something sometimes still such
    than that the their them themselves then there these they this those though through thus to
    together too toward under until up upon us very via was we well were what whatever when
    where whether which while who whom whose why will with within without would yes yet you your
    yours yourself yeah yep ok okay"""
)
# With the words above, about 300 of the most frequent English words: capitalised, they start a
# sentence rather than name someone. Frequent given names are left out; "Will"/"May" pass only
# before a surname ("I'm Will Turner").
COMMON_WORDS = FUNCTION_WORDS | word_set(
    """able actually add ago ahead alright anywhere area asap ask available back bad begin best
    better big bit bring busy buy call came case change check close come coming cost course
    currently day different done early easy enjoy exactly far fast find fine first free friend
    full get getting give glad go going gone good got great half happy hard hear help hey hi high
    home hope hour hours house idea important info information interested job keep kind know last
    late later least leave left less let life like line little live long look looking lot love
    made main make many mean mind minute moment money month morning name near need needs new next
    nice night number o old one open order own part past pay people person phone place plan point
    pretty price probably problem put question quick quickly ready real reason regarding right
    room run said same saw say second see seem seen send service set several show small soon
    sorry start stay stop sure take talk tell thank thanks thing think time today told tomorrow
    try trying turn two understand use usually visit wait want way week weekend welcome went
    whole wish work working year"""
)

# Capitalised words that are never a person's name here: calendar words, greetings,
# interjections, and adjectives/participles people put after "I'm" or "it's".
NOT_NAMES = word_set(
    """monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec today tomorrow tonight yesterday
    morning afternoon evening noon weekday weekend hi hello hey hiya howdy greetings hola buenos
    buenas bonjour bonsoir salut hallo guten servus ciao olá ola hoi dear thanks thank thx cheers
    merci gracias danke grazie obrigado obrigada sure yes yeah yep yup no nope ok okay alright
    fine great good perfect cool awesome sorry please hmm um uh oh well so anyway also just not
    here there available free busy visiting looking interested calling wondering hoping trying
    writing asking checking planning thinking moving running heading new local back home away
    ready done open closed urgent broken leaking important curious unsure confused lost late
    early happy glad sick tired me him her them us you it we they someone somebody
    anyone anybody everyone nobody customer client owner manager tenant landlord homeowner
    canadian american british english french german spanish italian mexican australian irish
    scottish chinese japanese korean indian dutch portuguese brazilian european asian african
    montag dienstag mittwoch donnerstag freitag samstag sonntag kunde kundin student studentin
    interessiert neukunde mitglied"""
)

_NAME_MONTHS = word_set("april may june august")  # months that are also given names
_PARTICLES = word_set("de da del della di du van von der den le la st bin al")
_SURNAME_WORDS = word_set("young white brown black green long hall hill king wood")
_TITLE = re.compile(r"(?:mr|mrs|ms|miss|mx|dr)\.?\s+", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_GAP = re.compile(r"[ \t]+")
_GERMAN = word_set("ich und der die das ist nicht wir bitte haben ein eine mit für")

# (lead-in, name must be followed by a comma/end/contact info, lowercase allowed)
_LEADS = [
    (
        r"my\s+name\s+is|my\s+name['\u2019]s|(?:^|(?<=[.!?,;]\s))name(?:\s+is|['\u2019]s)"
        r"|(?:^|(?<=\n))(?:full\s+|first\s+)?name[ \t]*:",  # a form pasted in: "Name: Tom Becker"
        False,
        True,
    ),
    (r"i['\u2019]m|i\s+am|im", False, False),
    (r"this\s+is", False, False),
    (r"it['\u2019]s|it\s+is", True, False),
    (r"call\s+me", False, False),
    # Whose name a reservation goes under: "put it under Rosa Delgado", "under the name Kim".
    (
        r"(?:^|(?<=[.!?,;]\s)|(?:reservation|booking|table|appointment|order|it|that|this|one"
        r"|them|us|me)(?:\s+for\s+\w+)?(?:\s+(?:is|will\s+be))?\s+)"
        r"under(?:\s+the\s+name(?:\s+of)?)?|under\s+the\s+name(?:\s+of)?",
        True,
        False,
    ),
    (r"me\s+llamo|mi\s+nombre\s+es", False, True),
    (r"soy", False, False),
    (r"je\s+m['\u2019]appelle|mon\s+nom\s+est", False, True),
    (r"je\s+suis", False, False),
    (r"c['\u2019]est", True, False),
    (r"mein\s+name\s+ist|ich\s+hei(?:ß|ss)e", False, True),
    (r"ich\s+bin", False, False),
]
_LEAD_RES = [
    (re.compile(rf"(?<![\w'\u2019])(?:{lead})[ \t]+", re.I), follow, lower)
    for lead, follow, lower in _LEADS
]
_OPENER = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|sure|yes|yeah|yep|ok|okay|of\s+course|certainly|absolutely|"
    r"good\s+(?:morning|afternoon|evening))(?:\s+there)?[\s,!.:;-]+)*",
    re.I,
)
_HERE = re.compile(r"[ \t]+here\b", re.I)
# Right after the receptionist asked for a name, "for Rosa Delgado" / "it's for Rosa" names who
# the booking is for (elsewhere "for Easter Sunday" would not be a name).
_FOR_LEAD = re.compile(
    r"(?:(?:it|that|this)(?:['\u2019]s|\s+is|\s+will\s+be)[ \t]+|(?:make|put)\s+it\s+)?for[ \t]+",
    re.I,
)
# Politeness after a name does not make it part of a longer sentence: "Rosa Delgado please, ..."
_POLITE = re.compile(r"[ \t]*,?[ \t]*(?:please|pls|plz|thanks|thank\s+you|thx|ty)\b", re.I)
_VOCATIVE = re.compile(r"\b(?:hi|hello|hey|hiya|dear|morning|afternoon|evening)[ \t]+$", re.I)


def _is_title(word: str) -> bool:
    return word[0].isupper() and not (len(word) > 1 and word.isupper())


def _grab(text: str, pos: int, lower_ok: bool) -> tuple[list[str], list[int]]:
    """Up to three name-shaped words from ``pos`` on one line, with where each one ends."""
    title = _TITLE.match(text, pos)
    pos = title.end() if title else pos
    words: list[str] = []
    ends: list[int] = []
    while len(words) < 3:
        m = _WORD.match(text, pos)
        if not m:
            break
        if not (_is_title(m[0]) or (lower_ok and m[0].islower())):
            gap = _GAP.match(text, m.end())
            nxt = gap and _WORD.match(text, gap.end())
            if not (words and m[0].lower() in _PARTICLES and nxt and _is_title(nxt[0])):
                break  # a particle counts only inside a name: "Ana de Souza"
        words.append(m[0])
        ends.append(m.end())
        gap = _GAP.match(text, m.end())
        if not gap:
            break
        pos = gap.end()
    return words, ends


def _clean(words: list[str]) -> list[str]:
    """Keep the leading words that can be a name; [] if the first one cannot."""
    if not words:
        return []
    first = words[0].lower()
    soft = first in COMMON_WORDS or first in _NAME_MONTHS
    if (
        (first in NOT_NAMES and not soft)
        or len(first) < 2
        or (first.endswith("ing") and len(first) > 5)
    ):
        return []
    kept = [words[0]]
    for word in words[1:]:
        low = word.lower()
        if low in NOT_NAMES or (low in COMMON_WORDS and low not in _SURNAME_WORDS):
            break
        kept.append(word)
    while kept and kept[-1].lower() in _PARTICLES:
        kept.pop()
    if not kept or any(w.lower().endswith(("'s", "\u2019s")) for w in kept):
        return []  # "Bob's Bakery", "Dr Rao's assistant": someone else's
    if soft and (len(kept) < 2 or kept[1].lower() in COMMON_WORDS):
        return []  # "I'm Just Looking", "it's May", but "I'm Will Turner", "I'm May Chen"
    return kept


def _followed_well(text: str, end: int, contact_starts: set[int]) -> bool:
    """A name said without a lead-in must end the message, a clause, or precede contact info."""
    polite = _POLITE.match(text, end)
    end = polite.end() if polite else end
    rest = text[end:]
    stripped = rest.lstrip()
    if not stripped or stripped[0] in ",.;:!?)-\u2013\u2014":
        return True
    return end + len(rest) - len(stripped) in contact_starts


def _split(words: list[str]) -> tuple[str, str]:
    words = [w if _is_title(w) or w.lower() in _PARTICLES else w.capitalize() for w in words]
    return words[0], " ".join(words[1:])


def find_name(
    text: str, contact: list[tuple[int, int]], *, expecting_name: bool = False
) -> tuple[str, str]:
    """(first, last) of the visitor's own name, or ("", ""); ``contact`` = phone/email spans."""
    starts = {start for start, _ in contact}
    german = bool({w.lower() for w in _WORD.findall(text)} & _GERMAN)
    found: list[tuple[int, list[str]]] = []
    for lead, follow, lower_ok in _LEAD_RES:
        for m in lead.finditer(text):
            if german and m[0].strip().lower() == "im":
                continue  # German "im Büro", not "I'm"
            words, ends = _grab(text, m.end(), lower_ok)
            words = _clean(words)
            if words and (not follow or _followed_well(text, ends[len(words) - 1], starts)):
                found.append((m.start(), words))
    if found:
        return _split(min(found, key=lambda f: f[0])[1])
    opener = _OPENER.match(text)
    if expecting_name:
        lead = _FOR_LEAD.match(text, opener.end() if opener else 0)
        words, ends = _grab(text, lead.end(), False) if lead else ([], [])
        words = _clean(words)
        if words and _followed_well(text, ends[len(words) - 1], starts):
            return _split(words)
    words, ends = _grab(text, opener.end() if opener else 0, False)
    words = _clean(words)
    if not words:
        return _bare_lowercase(text, contact) if expecting_name else ("", "")
    end = ends[len(words) - 1]
    if _HERE.match(text, end):
        return _split(words)  # "Dana here"
    if not _followed_well(text, end, starts) or (opener and _VOCATIVE.search(opener[0])):
        return ("", "")  # "Hi Sarah, can you call me at ..." greets someone else
    after = text[end:].lstrip()
    next_start = len(text) - len(after)
    if expecting_name or (
        contact and len(words) >= 2 and (after[:1] == "," or next_start in starts)
    ):
        return _split(words)
    return ("", "")


def _bare_lowercase(text: str, contact: list[tuple[int, int]]) -> tuple[str, str]:
    """'lee wong' typed right after being asked: the whole message is the name (+contact)."""
    for start, end in sorted(contact, reverse=True):
        text = text[:start] + " " + text[end:]
    if re.search(r"[^\w\s,.;:!'\u2019\-]|\d", text):
        return ("", "")
    words = _WORD.findall(text)
    if not 1 <= len(words) <= 3 or not all(w.islower() for w in words):
        return ("", "")
    if any(w in COMMON_WORDS or w in NOT_NAMES or len(w) < 2 for w in words):
        return ("", "")
    return _split(words)
