"""Language understanding for the offline model: pure functions over one visitor message.

Everything here is general language knowledge (how people introduce themselves, ask for a human
or a link, phrase a price question) and never a word list for one kind of business, so the same
rules serve a plumber, a salon or a restaurant. Deterministic and free of I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from agent.core.contacts import ContactDetails
from agent.local import names
from agent.local.names import word_set

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
    found = _detector().detect_language_of(bare) if len(words) >= 3 else None
    if found:
        return found.iso_code_639_1.name.lower()
    return _best(bare, among) if among else "en"


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?:{p})" for p in patterns), re.I)


_A = r"(?:a|an|the|your|some|one)\s+"
_HUMAN = r"(?:person|human|agent|manager|owner|representative|rep|staff|employee|operator|boss)"
_INTENTS: dict[str, re.Pattern[str]] = {
    "handoff": _rx(
        r"\breal\s+(?:person|human|people)\b|\blive\s+(?:agent|person|chat|human)\b",
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
    r"\b(?:cu[aá]nto|qu[eé]|c[oó]mo|d[oó]nde|cu[aá]ndo|combien|quand|où|comment|quel|quelle)\b",
)  # fmt: skip
_PRICE = _rx(
    r"\bhow\s+much\b|\bpric(?:e|es|ed|ing)\b|\bcosts?\b|\bcharges?\b|\bfees?\b|\brates?\b|\bquotes?\b",
    r"\bcu[aá]nto\b|\bprecios?\b|\bcuesta\b|\bcombien\b|\bprix\b|\btarifs?\b|\bco[uû]te\b",
    r"\bkostet\b|\bpreise?\b|\bquanto\b|\bprezz[oi]\b|\bpreços?\b|\bwat\s+kost\b",
)  # fmt: skip


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _only(words: list[str], vocabulary: frozenset[str]) -> bool:
    return bool(words) and all(w in vocabulary or _fold(w) in vocabulary for w in words)


def intents(text: str) -> set[str]:
    """Every label that applies: handoff, callback, booking, link, injection, greeting, thanks,
    question. Several can hold at once ("Hi, can someone call me to book?")."""
    text = text or ""
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
    return found


def asks_price(text: str) -> bool:
    """Whether the visitor asks what something costs, in any supported language."""
    return bool(_PRICE.search(text or ""))


def stem(word: str) -> str:
    """Light English suffix stripping, shared with the answer module so both sides agree.

    Plurals always ("cheques" -> "cheque", "boxes" -> "box", "batteries" -> "battery"); "ing"
    and "ed" only when a vowel stays, restoring the "e" of short words ("pricing" -> "price").
    """
    w = _fold(word).replace("\u2019", "'")
    w = w[:-2] if w.endswith("'s") else w
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "ches", "shes", "xes", "zzes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]  # and on: "bookings" -> "booking" -> "book"
    for suffix in ("ing", "ed"):
        base = w[: -len(suffix)]
        if not w.endswith(suffix) or w in _NOT_SUFFIXED or len(base) < 3:
            continue
        if not re.search(r"[aeiouy]", base[:-1] if base.endswith("y") else base):
            return w  # "string", "bed", "red"
        if base.endswith(("at", "bl", "iz")):
            return base + "e"  # "located" -> "locate"
        if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
            return base[:-1]  # "running" -> "run"
        if re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", base):
            return base + "e"  # one syllable ending consonant-vowel-consonant: "priced"
        return base
    return w


_NOT_SUFFIXED = word_set(
    """morning evening ceiling during nothing something anything everything wedding pudding
    awning sibling lightning bring thing spring string king ring sing wing swing sling
    feed need seed speed weed breed bleed indeed hundred embed shed sled"""
)
_STOP = names.FUNCTION_WORDS | word_set(
    """how much cost costs price prices pricing charge charges fee fees rate rates guys really
    hi hello hey hola bonjour thanks thank tell know wondering wonder wanted want need like get
    got i'm im i've i'd i'll you're you've what's it's there's that's let's we're they're don't
    doesn't isn't aren't can't won't offer provide give question quick ask around approximately
    roughly typically usually u ur pls plz thx take accept have get make cuanto cuanta cuesta
    precio el la los las un una de del y o en por para que con es son se me mi su hay como donde
    cuando combien coute prix le les des du et ou est sont je vous nous pour avec dans sur ce
    cette quel quelle"""
)


def informative_terms(text: str) -> list[str]:
    """The words of a question worth matching against knowledge: folded, stemmed, no filler."""
    terms: list[str] = []
    folded = re.sub(r"\bhow\s+(?:long|many|often|far|soon)\b", " ", _fold(text or ""))
    for raw in re.findall(r"[^\W_]+(?:['\u2019][^\W\d_]+)?", folded):
        word = raw.replace("\u2019", "'")
        if word in _STOP or (len(word) < 2 and not word.isdigit()):
            continue
        term = stem(word)
        if term not in _STOP and term not in terms:
            terms.append(term)
    return terms


# General website sections: a link name and a request match when they share a concept.
_LINK_CONCEPTS = [
    "book appoint reserv reservation schedul schedule slot",
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
_GENERIC_LINK_PARTS = word_set("online page link url site website web form list now here")
_ANY_LINK = re.compile(r"\b(?:website|web\s*site|site|link|url|web\s+page|webpage|online)\b", re.I)


def _concepts(words: set[str]) -> set[int]:
    return {i for i, group in enumerate(_LINK_CONCEPTS) if words & set(group.split())}


def link_requested(text: str, link_names: list[str]) -> str | None:
    """The configured link the visitor asks for ("where can I book online?" -> "booking")."""
    text, link_names = text or "", list(link_names or [])
    if not link_names or not ("link" in intents(text) or _ANY_LINK.search(text)):
        return None
    folded = _fold(text)
    said = {stem(w) for w in re.findall(r"[a-z0-9]+", folded)}
    said |= {"get-there"} if re.search(r"\bget\s+(?:there|to\s+you)\b", folded) else set()
    said |= {"find-you"} if re.search(r"\bfind\s+(?:you|your\s+\w+)\b", folded) else set()
    scores: dict[str, int] = {}
    for name in link_names:
        parts = {stem(p) for p in re.split(r"[_\-\s]+", name.lower()) if p}
        specific = parts - _GENERIC_LINK_PARTS or parts
        score = 2 * len(specific & said) + len(_concepts(specific) & _concepts(said))
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
