"""Language understanding for the offline model: pure functions over one visitor message.

Everything here is general language knowledge (how people introduce themselves, ask for a human
or a link, phrase a price question) and never a word list for one kind of business, so the same
rules serve a plumber, a salon or a restaurant. Deterministic and free of I/O.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from agent.core.contacts import ContactDetails
from agent.local import names
from agent.local.names import FUNCTION_WORDS, word_set
from agent.text import fold, plainly_english, stem
from agent.text import words as english_words

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")


def extract_contact(text: str, country: str, *, expecting_name: bool = False) -> ContactDetails:
    """Name, email and phone the visitor typed; what is absent or invalid stays empty."""
    text = text or ""
    emails = names.find_emails(text)
    phones = [
        p for p in names.find_phones(text, country) if not any(s <= p[0] < e for s, e, _ in emails)
    ]  # digits inside an address are not a number
    spans = [(s, e) for s, e, _ in emails + phones]
    first, last = names.find_name(text, spans, expecting_name=expecting_name)
    email, phone = (emails[0][2] if emails else ""), (phones[0][2] if phones else "")
    return ContactDetails(first_name=first, last_name=last, email=email, phone=phone)


# Short words that settle the language of a one- or two-word message on their own.
_MARKERS: dict[str, str] = {
    word: lang
    for lang, words in {
        "es": "hola gracias buenos buenas adiós adios vale sí qué cómo cuánto dónde llamo",
        "fr": "bonjour bonsoir salut merci oui d'accord combien où ça voilà je suis c'est",
        "de": "danke guten tschüss tschüs nein bitte servus moin ich",
        "pt": "olá obrigado obrigada sim não tchau valeu",
        "it": "ciao grazie buongiorno buonasera prego sì arrivederci",
        "nl": "hoi dank bedankt goedemorgen goedemiddag nee doei alsjeblieft",
        "de nl": "hallo ja",
    }.items()
    for word in words.split()
}
_MARK_LETTERS = {"¿": "es", "¡": "es", "ñ": "es", "ß": "de", "ä": "de", "ö": "de", "ü": "de"}
_MARK_LETTERS |= {"ã": "pt", "õ": "pt"}
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")


@cache
def _detector() -> Any:
    """Built once per process: lingua loads its n-gram models (about a second)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGUAGES]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    # A near tie between languages reads as "unsure": English, unless a marker word decides.
    return builder.with_minimum_relative_distance(0.1).with_preloaded_language_models().build()


def _best(text: str, among: set[str]) -> str:
    for value in _detector().compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        if code in among:
            return code
    return "en"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the message (en, es, fr, de, pt, it, nl); "en" when unsure.

    Statistical detectors guess wildly on "ok" or "Sooke?", so a message under three words, or
    one the detector is unsure about, is English unless it carries a word or mark that only
    another language uses ("merci", "¿").
    """
    bare = names.EMAIL.sub(" ", re.sub(r"https?://\S+|www\.\S+", " ", text or ""))
    for name in filter(None, names.find_name(bare, [])):
        bare = bare.replace(name, " ")  # "I'm José García" is English, not Spanish
    words = [w.lower() for w in _LETTER_WORD.findall(bare)]
    if not words:
        return "en"
    among = {lang for w in words for lang in _MARKERS.get(w, "").split()}
    among |= {lang for mark, lang in _MARK_LETTERS.items() if mark in bare.lower()}
    if not among and plainly_english(bare):
        return "en"  # no detector needed (it costs milliseconds a message)
    found = _detector().detect_language_of(bare) if len(words) >= 3 else None
    if found:
        return found.iso_code_639_1.name.lower()
    return _best(bare, among) if among else "en"


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?:{p})" for p in patterns), re.I)


_A = r"(?:a|an|the|your|some|one)\s+"
_NUMBER_WORDS = r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_HUMAN = r"(?:person|human|agent|manager|owner|representative|rep|staff|employee|operator|boss)"
# An automated assistant, named as what the visitor does not want to talk to ("than a chatbot");
# it must end the clause, so "cheaper than a robot vacuum" is not one.
_BOT = (
    r"(?:chat\s*bot|bot|robot|ai|a\.i\.?|automated\s+(?:system|assistant|service|reply|replies)"
    r"|virtual\s+(?:assistant|receptionist))s?(?=\s*(?:$|[.,;:!?)]|please\b|pls\b|thanks\b))"
)
_INTENTS: dict[str, re.Pattern[str]] = {
    "handoff": _rx(
        r"\b(?:real|actual)\s+(?:person|human|people|someone|somebody)\b|\blive\s+(?:agent|person|chat|human)\b",
        rf"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:{_A}|someone\s+|somebody\s+)?(?:real|actual|live|human)\s+[a-z]",
        rf"(?<!\bi'm\s)(?<!\bim\s)(?<!\bam\s)\b(?:than|not)\s+(?:{_A}|this\s+)?{_BOT}",
        rf"\b(?:don'?t|do\s+not|won'?t|never)\s+want\s+(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?(?:{_A}|this\s+)?{_BOT}",
        rf"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:someone|somebody|anyone|{_A}?(?:\w+\s+)?{_HUMAN}s?\b|(?:a\s+)?human)",
        r"\b(?:connect|transfer|put)\s+me\s+(?:to|with|through)\b|\bhuman\s+being\b",
        r"\bhablar\s+con\s+(?:una\s+persona|alguien|un\s+humano|un\s+agente|el\s+(?:due[ñn]o|gerente|encargado))",
        r"\bpersona\s+real\b|\bparler\s+(?:à|a|avec)\s+(?:quelqu'un|une\s+personne|un\s+(?:humain|conseiller|agent|responsable)|le\s+(?:responsable|propriétaire|gérant))",
        r"\b(?:vraie\s+personne|personne\s+réelle|être\s+humain)\b",
    ),
    "callback": _rx(
        r"\b(?:call|phone|ring)\s+(?:me|us)\s+back\b|\bcall\s*back\b",
        r"\bgive\s+(?:me|us)\s+a\s+(?:call|ring|buzz)\b|\b(?:phone|ring)\s+me\b",
        r"\b(?:someone|somebody|you|u|anyone)\s+(?:to\s+|please\s+)?call\s+me\b",
        r"\bcall\s+me\b(?=\s*(?:$|[,.!?+(\d]|(?:at|on|when|asap|please|later|anytime|whenever|today|tomorrow|this|after|before|back)\b))",
        r"\bll[aá]m(?:e|ame|enme)\b|\bllamarme\b|\bme\s+(?:puede|pueden)\s+llamar\b|\bdevolver\s+la\s+llamada\b",
        r"\brappele[zr][-\s]moi\b|\bme\s+rappeler\b|\bappele[zr][-\s]moi\b|\bm'appeler\b",
    ),
    "booking": _rx(
        r"\bbook(?:ing|ed|s)?\b|\bappointments?\b|\bschedul(?:e|ing)\b|\breserv(?:e|ation|ations|ing)\b",
        r"\bavailab(?:ility|le\s+(?:on|at|for|this|next|tomorrow|today))\b|\b(?:you|anyone|someone)\s+available\b",
        r"\bcome\s+(?:out|by|over|round|around|in)\b|\bsend\s+(?:someone|somebody|a\s+\w+)\b",
        r"\bvisit\b|\bwhen\s+can\s+(?:you|someone|somebody|i|we)\b|\b(?:a|an|any)\s+(?:slots?|openings?)\b",
        r"\bbring\s+(?:[\w']+\s+){0,3}?(?:in|by|over|round)\b|\b(?:pop|stop|swing|drop)\s+(?:by|in)\b|\b(?:fit|squeeze|get)\s+(?:me|us|him|her|them)\s+in\b",
        rf"\b(?:table|party|reservation|booking|room)\s+(?:for|of)\s+(?:\d+|{_NUMBER_WORDS})\b",
        r"\bcitas?\b|\breserv(?:ar|a)\b|\bagendar\b|\brendez[-\s]vous\b|\bréserv(?:er|ation)\b|\btermin\b|\bprenota",
    ),
    "link": _rx(
        r"\b(?:link|links|url|website|web\s*site|webpage|web\s+page|page)\b|(?<!\bon[\s-])\bsite\b",
        r"\bwhere\b[^.?!]*\bonline\b|\b(?:can|could)\s+i\b[^.?!]*\bonline\b|\benlace\b|\blien\b",
    ),
    "injection": _rx(
        r"\b(?:ignore|forget|disregard|override)\s+(?:all\s+|any\s+)?(?:(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|original|your|all)\s+)+(?:instructions?|rules?|prompts?|directions?|guidelines?)",
        r"\bsystem\s+prompt\b|\byour\s+(?:instructions|initial\s+prompt|prompt|programming)\b",
        r"\b(?:reveal|print|repeat|show|output|display|tell\s+me|leak|dump)\s+(?:me\s+)?(?:your|the)\s+(?:\w+\s+)?(?:prompt|instructions)",
        r"\b(?:reveal|print|repeat|output|leak|dump)\s+(?:me\s+)?(?:your|the)\s+(?:\w+\s+)?(?:rules|guidelines)",
        r"\bdeveloper\s+mode\b|\byou\s+are\s+now\b|\bdisregard\s+(?:the|everything)\s+above\b",
        r"\bpretend\s+(?:you\s+are|to\s+be|you're)\b|\bjailbreak\b|\bDAN\s+mode\b",
    ),
}  # fmt: skip
_ASK_FOR_SOMEONE = re.compile(r"(?i:\b(?:talk|speak)\s+(?:to|with)\s+)([A-Z][a-z]+)\b")
_NOT_PERSON = names.COMMON_WORDS | names.NOT_NAMES
_GREETING_WORDS = word_set(
    """hi hello hey heya hiya howdy yo greetings good morning afternoon evening day there all
    anyone anybody here everyone folks team guys friend hola buenos buenas días dias tardes
    noches bonjour bonsoir salut hallo guten tag morgen abend olá ola oi bom dia ciao buongiorno
    buonasera hoi"""
)
_THANKS_WORDS = word_set(
    """thanks thank thx ty tysm cheers ok okay k kk great perfect awesome cool nice good bye
    goodbye byebye see ya you later cya appreciate it that's thats so very much a lot all sounds
    got alright gracias merci danke obrigado obrigada grazie bedankt adiós adios au revoir
    tschüss ciao beaucoup muchas mille vielen dank again mate buddy guys folks everyone talk soon
    have day take care one night"""
)
_GREETING_START = word_set(
    "hi hello hey heya hiya howdy yo greetings good morning afternoon evening hola buenos buenas "
    "bonjour bonsoir salut hallo guten olá oi bom ciao buongiorno hoi"
)
_CLAUSE = r"(?:^|[.!?]\s+|^\s*(?:(?:hi|hello|hey)(?:\s+there)?|sorry|also|and|but|so)[\s,]+)"
_QUESTION = _rx(
    r"\?|¿",
    rf"{_CLAUSE}(?:how|what|when|where|who|whom|whose|which|why|is|are|do|does|can|could)\b",
    rf"{_CLAUSE}(?:did|will|would|should|may|might|have|has)\s+(?:you|u|i|we|they|he|she|it|there|this|that|anyone|someone|your|the)\b",
    r"\b(?:how\s+much|price|cost|do\s+you|can\s+i|are\s+you|is\s+there|what|when|where|who|which|why|how)\b",
    r"\b(?:r|are|is|do|does|can|will)\s+(?:u|ur|ya)\b",  # texting: "r ur beans vegetarian"
    r"\b(?:cu[aá]nto|qu[eé]|c[oó]mo|d[oó]nde|cu[aá]ndo|combien|quand|où|comment|quel|quelle)\b",
)  # fmt: skip
_PRICE = _rx(
    r"\bhow\s+much\b|\bpric(?:e|es|ed|ing)\b|\bcosts?\b|\bcharges?\b|\bfees?\b|\brates?\b|\bquotes?\b",
    r"\bcu[aá]nto\b|\bprecios?\b|\bcuesta\b|\bcombien\b|\bprix\b|\btarifs?\b|\bco[uû]te\b",
    r"\bkostet\b|\bpreise?\b|\bquanto\b|\bprezz[oi]\b|\bpreços?\b|\bwat\s+kost\b",
)  # fmt: skip


def _only(words: list[str], vocabulary: frozenset[str]) -> bool:
    return bool(words) and all(w in vocabulary or fold(w) in vocabulary for w in words)


def intents(text: str) -> set[str]:
    """Every label that applies: handoff, callback, booking, link, injection, greeting, thanks,
    question. Several can hold at once ("Hi, can someone call me to book?")."""
    return set(_intents(text or ""))


@lru_cache(maxsize=8192)
def _intents(text: str) -> frozenset[str]:
    """``intents``, read once per text: every knowledge line is screened for instructions on
    every turn that retrieves it."""
    found = {label for label, pattern in _INTENTS.items() if pattern.search(text)}
    if any(m[1].lower() not in _NOT_PERSON for m in _ASK_FOR_SOMEONE.finditer(text)):
        found.add("handoff")  # "can I speak to Dave?"
    words = [w.lower().replace("\u2019", "'") for w in _LETTER_WORD.findall(text)]
    if words and words[0] in _GREETING_START and _only(words, _GREETING_WORDS):
        found.add("greeting")
    elif _only(words, _THANKS_WORDS) and not re.search(r"\?", text):
        found.add("thanks")
    if _QUESTION.search(text):
        found.add("question")
    return frozenset(found)


def asks_price(text: str) -> bool:
    """Whether the visitor asks what something costs, in any supported language."""
    return bool(_PRICE.search(text or ""))


# --- booking request or question? ------------------------------------------------------------
# A visit or a booking word does not make every message a booking request: "what time do you
# stop serving lunch? was hoping to come by around 3" asks when lunch ends, and "what should I
# bring to my appointment?" asks what to bring. These rules read a message clause by clause.
_BOOK_VERB = (
    r"(?:book|reserve|schedule|come|visit|(?:stop|drop|pop|swing)\s+(?:by|in|over)"
    r"|bring\s+(?:[\w']+\s+){0,3}?(?:in|by|over|round)"
    r"|send\s+(?:someone|somebody|anyone|(?:a|an)\s+"
    r"(?!(?:link|form|copy|quote|message|text|e?mail|photo|picture|pdf)\b)\w+)"
    r"|(?:fit|squeeze|get)\s+(?:me|us|him|her|them)\s+in"
    r"|make\s+(?:a|an)\s+(?:appointment|reservation|booking))"
)
# Someone asking for the visit itself: "can I come by", "I'd like to book", "is it possible to".
_REQUEST = re.compile(
    r"\b(?:(?:can|could|may|would|will)\s+(?:i|we|you|u|y'all|someone|somebody|anyone)"
    r"|i['\u2019]?d\s+(?:really\s+)?(?:like|love)\s+to|(?:i|we)\s+would\s+(?:like|love)\s+to"
    r"|we['\u2019]d\s+(?:like|love)\s+to|(?:i|we)\s+(?:want|wanna|need)(?:\s+to)?"
    r"|(?:i|we)\s+(?:need|want)\s+(?:you|someone|somebody)\s+to|please|pls|plz|let['\u2019]?s"
    r"|possible\s+to|any\s+(?:way|chance)(?:\s+(?:to|i|we|you))?(?:\s+(?:could|can))?"
    r"|(?:are|r)\s+(?:you|u)\s+able\s+to)"
    rf"\s+(?:[\w']+\s+){{0,2}}?{_BOOK_VERB}\b",
    re.I,
)
# Asking what is free: "do you have anything Friday", "earliest", "any openings".
_AVAILABILITY = re.compile(
    r"\bavailab|\bopenings?\b|\bslots?\b|\bspots?\b|\bearliest\b|\bsoonest\b"
    r"|\b(?:you|anyone|someone|somebody)\s+free\b|\bnext\s+(?:available|opening|appointment)"
    r"|\b(?:fit|squeeze)\s+(?:me|us|him|her|them)\s+in\b|\bwork(?:s)?\s+for\s+(?:you|u)\b"
    r"|\bhave\s+(?:any(?:thing)?\s+)?(?:time|room|space|anything|something)\b|\bbooked\s+up\b"
    rf"|\b(?:tables?|room|space|spot)\s+for\s+(?:\d+|{_NUMBER_WORDS})\b",
    re.I,
)
# Someone asking about the business rather than for a visit: a wh-question, or a yes/no question
# about the business ("do you have a patio?", "is there parking?").
_INFO_OPENER = re.compile(
    r"^(?:(?:hi|hello|hey|so|and|but|also|ok|okay|oh|sorry|btw|quick\s+question|one\s+more\s+thing"
    r"|just\s+wondering|i\s+was\s+wondering|i\s+wonder|wondering|can\s+you\s+tell\s+me"
    r"|could\s+you\s+tell\s+me|do\s+you\s+know)[\s,:!-]+)*"
    r"(?:(?:what|when|where|which|who|whose|why|how)(?:['\u2019](?:s|re))?\b(?!\s+about\b)"
    r"|(?:do|does|did|is|are|was|were|have|has)\s+(?:you|u|y'all|ya|there|it|they|the|your|ur|i|we"
    r"|this|that|these|those|my|our)\b)",
    re.I,
)
# A visit mentioned as background, not asked for: "was hoping to come by", "before my appointment".
_HEDGE = re.compile(
    r"\b(?:was|were|am|are|i['\u2019]m|im|we['\u2019]re)\s+"
    r"(?:hoping|thinking|planning|wanting|going)\b"
    r"|\b(?:thinking|wondering)\s+(?:of|about)\b|\bplanning\s+(?:to|on)\b|\bhoping\s+to\b"
    r"|\b(?:might|maybe|probably|perhaps|possibly)\b"
    r"|\b(?:i|we)\s+(?:have|had|['\u2019]ve\s+got|got)\s+(?:a|an|my|our)\b"
    r"|\b(?:i|we)(?:['\u2019]ll|\s+will)\b|\b(?:before|after|during|at)\s+(?:my|our)\b"
    r"|\b(?:my|our)\s+(?:[\w:]+\s+){0,2}?(?:appointment|visit|reservation|booking)s?\b",
    re.I,
)
_TIME_HINT = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|h\b)|\b(?:at|around|by)\s+\d{1,2}(?::\d{2})?\b"
    r"|\b(?:today|tomorrow|tonight|this\s+(?:morning|afternoon|evening|week|weekend)|next\s+week)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b",
    re.I,
)
_CLAUSES = re.compile(r"(?<=[.?!;])\s+|\n+|\s+[-\u2013\u2014]\s+")


def _booking_signal(clause: str) -> bool:
    return bool(_INTENTS["booking"].search(clause) or re.search(rf"\b{_BOOK_VERB}\b", clause, re.I))


def _asks_for_visit(clause: str, info: bool) -> bool:
    if _REQUEST.search(clause):
        return True
    if not _booking_signal(clause) or _HEDGE.search(clause):
        return False
    if not info:
        return True  # "Table for 4 today at 3:30pm please", "book me in Friday"
    # Inside a question, a visit with a time still asks for it ("is it ok if I come by at 3?");
    # a booking noun alone is what the question is about ("how long is an appointment?").
    verb = re.search(rf"\b{_BOOK_VERB}\b", clause, re.I)
    return bool(verb and _TIME_HINT.search(clause))


def asks_information(text: str) -> bool:
    """Whether the message asks about the business and any visit in it is only background.

    "what time do you stop serving lunch on weekdays? was hoping to come by around 3" and
    "what should I bring to my appointment?" are questions; "can I come by at 3?", "I'd like
    to book. Do you have parking?" and "when can you come out?" ask for a visit.
    """
    clauses = [c.strip() for c in _CLAUSES.split(text or "") if c.strip()]
    info = [bool(_INFO_OPENER.search(c)) and not _AVAILABILITY.search(c) for c in clauses]
    if not any(info):
        return False
    return not any(_asks_for_visit(c, i) for c, i in zip(clauses, info, strict=True))


# "Can I reserve one of the patio tables?" asks whether a particular thing the business has can
# be reserved; "can I reserve a table for 6?" asks for a reservation. The thing is named with a
# definite word (the, your, one of the) or is the subject of "be reserved"/"reservable".
_THE = (
    r"(?:(?:one|some|any|two|three|a\s+couple|a\s+few)\s+of\s+)?(?:the|your|ur|those|these|that)\s+"
)
_THING = r"(?P<thing>[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,2})"
_BOOKABLE = [
    re.compile(
        rf"\b(?:(?:can|could|may)\s+(?:i|we|you|u)(?:\s+\w+)?|possible\s+to|any\s+way\s+to"
        rf"|able\s+to)\s+(?:reserve|book)\s+{_THE}{_THING}",
        re.I,
    ),
    re.compile(
        rf"\b(?:can|could|may)\s+(?:{_THE}|a\s+|an\s+)?{_THING}\s+be\s+(?:reserved|booked)\b",
        re.I,
    ),
    re.compile(rf"\b(?:is|are)\s+(?:{_THE})?{_THING}\s+(?:reservable|bookable)\b", re.I),
    re.compile(
        rf"\b(?:take|accept|do)\s+(?:reservations?|bookings?)\s+(?:for|on|in)\s+{_THE}{_THING}",
        re.I,
    ),
]
# What a slot is called rather than a thing the business has: "book the first appointment".
_SLOT_WORDS = word_set(
    """first earliest next last same usual soonest appointment appointments slot slots time times
    spot date day week weekend morning afternoon evening night one this that it"""
)


def bookable_thing(text: str) -> list[str]:
    """The words naming a particular thing the visitor asks whether they can reserve ("can I
    reserve one of the patio tables?" -> ["patio", "tables"]); [] for a plain booking request."""
    for pattern in _BOOKABLE:
        for m in pattern.finditer(text or ""):
            words: list[str] = []
            for word in m["thing"].split():
                low = word.lower()
                if low in FUNCTION_WORDS or _TIME_HINT.fullmatch(low) or low.isdigit():
                    break
                words.append(low)
            if words and words[0] not in _SLOT_WORDS:
                return words
    return []


# General website sections: a link name and a request match when they share a concept.
_LINK_CONCEPT_WORDS = [
    "book appoint appointment reserv reserve reservation schedul schedule slot",
    "review rating testimonial feedback",
    "price pricing cost rate fee quote",
    "menu",
    "direction map location address get-there find-you",
    "contact",
    "gallery photo picture portfolio",
    "shop store buy order",
    "career job hiring",
    "gift voucher",
    "faq",
]
_LINK_CONCEPTS = [frozenset(stem(w) for w in group.split()) for group in _LINK_CONCEPT_WORDS]
# Where a link points rather than what it is: never enough on their own to pick one.
_LINK_CARRIERS = frozenset(
    map(stem, word_set("online page link links url site website web now here"))
)
# What kind of page, when a link's name says nothing more specific ("new client form").
_LINK_KINDS = frozenset(map(stem, word_set("form list")))
_GENERIC_LINK_PARTS = _LINK_CARRIERS | _LINK_KINDS
_ANY_LINK = re.compile(r"\b(?:website|web\s*site|site|link|url|web\s+page|webpage|online)\b", re.I)
# Asking to be sent something: "send me the form", "can I get the menu", "email us the list".
_SEND_ME = re.compile(
    r"\b(?:send|email|e-mail|text|forward|share|give|show|pass)\s+(?:me|us)\s+(?:over\s+)?"
    r"|\b(?:can|could|may)\s+(?:i|we)\s+(?:get|have|see)\s+"
    r"|\bsend\s+(?:over\s+)?(?=(?:the|your|that)\b)",
)
# Asking whether something exists or where it is: "is there a form ...", "link to your menu".
_ASK_FOR = re.compile(
    r"\b(?:is\s+there|are\s+there|do\s+you\s+have|have\s+you\s+got|where\s+(?:is|are|can\s+i"
    r"\s+(?:find|get|see)|do\s+i\s+(?:find|get))|(?:link|url|page|website|site)\s+(?:for|to))\s+"
)
_OBJECT = re.compile(r"(?:(?:a|an|the|your|ur|some|any|that|this|our|my)\s+)?([^.,;:!?\n]*)")


def _asked_for(folded: str, frame: re.Pattern[str]) -> set[str]:
    """The (stemmed) words of the thing asked for right after ``frame``: "is there a form I can
    fill out" -> {"form"}; what follows the thing ("I can fill out") is not part of it."""
    asked: set[str] = set()
    for m in frame.finditer(folded):
        obj = _OBJECT.match(folded, m.end())
        for word in english_words(obj[1] if obj else "")[:3]:
            if word in FUNCTION_WORDS or word in {"pls", "plz", "thanks", "asap"}:
                break
            asked.add(stem(word))
    return asked


def _concepts(words: set[str]) -> set[int]:
    return {i for i, group in enumerate(_LINK_CONCEPTS) if words & group}


def link_requested(text: str, link_names: list[str]) -> str | None:
    """The configured link the visitor asks for ("where can I book online?" -> "booking").

    A link is picked by the words its name shares with the message, above all with the thing
    asked for ("is there a form ...? send me the link" -> "new_client_form", even when the
    message also mentions an appointment); None when two links fit equally well.
    """
    text, link_names = text or "", list(link_names or [])
    if not link_names:
        return None
    folded = fold(text)
    names = {name: {stem(p) for p in re.split(r"[_\-\s]+", fold(name)) if p} for name in link_names}
    sent = _asked_for(folded, _SEND_ME)
    named = any((parts - _LINK_CARRIERS) & sent for parts in names.values())
    if not ("link" in intents(text) or _ANY_LINK.search(text) or named):
        return None
    asked = sent | _asked_for(folded, _ASK_FOR)
    said = {stem(w) for w in english_words(text)}
    said |= {"get-there"} if re.search(r"\bget\s+(?:there|to\s+you)\b", folded) else set()
    said |= {"find-you"} if re.search(r"\bfind\s+(?:you|your\s+\w+)\b", folded) else set()
    scores: dict[str, int] = {}
    for name, parts in names.items():
        specific = parts - _GENERIC_LINK_PARTS or parts
        kinds = parts & _LINK_KINDS
        score = 2 * len(specific & said) + len(kinds & said) + 4 * len((specific | kinds) & asked)
        score += len(_concepts(specific) & _concepts(said))
        if score:
            scores[name] = score
    if scores:
        best = max(scores.values())
        winners = [name for name, score in scores.items() if score == best]
        return winners[0] if len(winners) == 1 else None
    generic = re.search(r"\b(?:your|the|a|ur)\s+(?:website|web\s*site|site|link|url)\b", folded)
    return link_names[0] if generic and len(link_names) == 1 else None


_PHONE_WORD = (
    r"(?:phone(?:\s+number)?|cell(?:\s+number)?|mobile(?:\s+number)?|telephone|number(?!\s+of))"
)
_EMAIL_WORD = r"(?:e-?mail(?:\s+address)?)"
_CHANNEL = re.compile(rf"\b(?:(?P<phone>{_PHONE_WORD})|(?P<email>{_EMAIL_WORD}))\b", re.I)


def contact_order(instructions: str) -> list[str]:
    """Which contact detail the admin wants asked for first; phone, then email, by default."""
    for sentence in re.split(r"[.;!\n]+", instructions or ""):
        mentions = [
            (m.start(), "phone" if m["phone"] else "email") for m in _CHANNEL.finditer(sentence)
        ]
        channels = list(dict.fromkeys(c for _, c in mentions))
        lowered = sentence.lower()
        first = re.search(r"\bfirst\b", lowered)
        if first and mentions:
            lead = min(mentions, key=lambda m: abs(m[0] - first.start()))[1]
        elif len(channels) < 2:
            continue
        elif re.search(r"\bafter\b", lowered):
            lead = channels[1]
        elif re.search(r"\b(?:before|then|followed\s+by|prior\s+to|and\s+then)\b", lowered):
            lead = channels[0]
        else:
            continue
        return [lead, "email" if lead == "phone" else "phone"]
    return ["phone", "email"]


_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|never|no\s+need\s+to|not)\s+(?:ask|collect|request|get|take|need)"
    r"\s+(?:for\s+)?(?:(?:an?|the|their|his|her|your)\s+)?$",
    re.I,
)


def only_channel(instructions: str) -> str | None:
    """The one channel ("phone"/"email") the admin wants collected, or None for both."""
    text = instructions or ""
    wanted: set[str] = set()
    for m in _CHANNEL.finditer(text):
        channel = "phone" if m["phone"] else "email"
        before, after = text[max(0, m.start() - 40) : m.start()], text[m.end() : m.end() + 12]
        if _NEGATED.search(before):
            wanted.add("email" if channel == "phone" else "phone")
        elif re.search(r"\b(?:only|just)\b(?:\s+\w+){0,4}\s*$", before, re.I) or re.match(
            r"\s*only\b", after, re.I
        ):
            wanted.add(channel)
        elif re.search(r"\bno\s+$", before, re.I):
            wanted.add("email" if channel == "phone" else "phone")
    return wanted.pop() if len(wanted) == 1 else None
