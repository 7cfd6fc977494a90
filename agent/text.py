"""Plain-text toolkit shared by the offline model and the knowledge index: folding, words,
stop words, stemming and sentences.

Visitors' words are matched against knowledge in several places (the quoted answer, the
visitor's request for a link or a booking rule, the BM25 index), and knowledge is cut into
sentences both when it is chunked and when it is quoted; all of them must fold, stem and cut
the same way, or a word one side keeps is one the other never finds. Only general English is
here, never words tied to one kind of business. Pure functions, no I/O.

The BM25 index is rebuilt in memory from the stored chunk texts by each process (see
``ingestion.ranking.Corpus``), never persisted, so changing how words are read here needs no
re-ingestion.
"""

from __future__ import annotations

import re
import unicodedata

# Articles, pronouns, auxiliaries and question words: in every sentence, so they tell no
# passage or question apart.
_FUNCTION_WORDS = """a an and are as at be but by can do does for from how i if in is it its me
    my of on or our so that the their them they this to was we what when where which who why
    will with you your"""
# What else says nothing about what a question is about: quantifiers, negation, time
# prepositions, politeness, chat spelling.
_FILLER_WORDS = """about across after again all almost along already also am among any anybody
    anyone anyway anywhere aren around been before being both could couldn cant did didn doesn
    doesnt doing don dont down during each else even ever every everywhere few get got guy
    guys had has hasn have haven having he hello her here herself hey hi him himself his hows
    im into isn isnt itself ive just later like many may maybe might mine more most much must
    myself no not now nowhere often oh ok okay once one only onto ourselves out over own perhaps
    please pls plz pretty quite r rather really several shall she should shouldn since some
    somewhere soon still such than thank thanks thats then there theres these themselves those
    thx till too toward towards u um under until up upon ur us very via wasn well were weren
    whats wheres whole whom whose within without wont would wouldn ya yall yes youre yours
    yourself"""
# Left out of what a question is about: the offline answer reads amounts, negation and times
# through its own intents ("how much", "until 6"), so these words only blur its matching.
STOP_WORDS = frozenset(f"{_FUNCTION_WORDS} {_FILLER_WORDS}".split())
# Left out of the search index: only the function words. BM25's idf already discounts common
# words, and "no", "not", "until" or "more" tell passages apart ("no charge", "open until 6");
# leaving them in scored better on benchmarks/retrieval.py (hybrid and rank fusion alike).
SEARCH_STOP_WORDS = frozenset(_FUNCTION_WORDS.split())
_IRREGULAR = {"children": "child", "teeth": "tooth", "feet": "foot", "men": "man"}
_IRREGULAR |= {"women": "woman", "people": "person", "mice": "mouse"}

_BOUNDARY = re.compile(r"((?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9$€£])")
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|vs|approx|mr|mrs|ms|dr|st|incl|ca)\.$", re.I)
_INITIAL = re.compile(r"(?<![A-Za-z.])[A-Z]\.$")


# Words only English uses among the seven languages read (no "is", "we", "in", "die", "me",
# "no", "do", "come", "will", "was", "open" or "i": Dutch, German, Spanish, Portuguese or
# Italian words too).
_ENGLISH_ONLY_WORDS = """the you your what how does did are can with they this that there when
    where which who why would could should have has were for our any some much many about from
    their them been to it at be my if or get just need want please"""
_ENGLISH_ONLY = frozenset(_ENGLISH_ONLY_WORDS.split())
_ASCII_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def plainly_english(text: str) -> bool:
    """Whether ``text`` is English beyond doubt, so no language detector need read it (one
    costs several milliseconds a message): plain ASCII, three words or more, at least two
    of them and a quarter of all words only English uses ("how much do you charge for...")."""
    if not text.isascii():
        return False
    found = _ASCII_WORD.findall(text)
    hits = sum(1 for w in found if w.lower() in _ENGLISH_ONLY)
    return len(found) >= 3 and hits >= 2 and 4 * hits >= len(found)


def fold(text: str, *, english: bool = False) -> str:
    """Lower case without accents, so "Café" and "cafe", "Cuánto" and "cuanto" agree.

    ``english`` also reads English spelling variants as one word, for matching English words:
    contractions lose their tail ("what's" -> "what", "won't" -> "will not") and a one-letter
    prefix joins its word ("e-bike" -> "ebike", "x-ray" -> "xray").
    """
    text = text.replace("\u2019", "'").lower() if english else text.lower()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    if not english:
        return text
    text = text.replace("won't", "will not")
    text = re.sub(r"\b([a-z])-(?=[a-z]{2})", r"\1", text)
    return re.sub(r"'(s|m|re|ve|ll|d|t)\b", "", text)


def words(text: str) -> list[str]:
    """The English words of ``text``, folded (see ``fold``); single letters other than digits
    say nothing and are dropped."""
    found = re.findall(r"[a-z0-9]+", fold(text, english=True))
    return [w for w in found if len(w) > 1 or w.isdigit()]


def stem(word: str) -> str:
    """Light suffix stripping of a folded word, applied to both sides of a match, so forms of a
    word agree: "cheques"/"cheque" -> "chequ", "pricing"/"priced" -> "pric"."""
    w = _IRREGULAR.get(word, word)
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 + (suffix == "ly"):
            w = w[: -len(suffix)]
            if suffix != "ly" and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # "fitting" -> "fit", "clogged" -> "clog"
            break
    return w[:-1] if w.endswith("e") and len(w) > 3 else w


def stems(text: str) -> frozenset[str]:
    """The stems of the words of ``text`` that say something (stop words left out)."""
    return frozenset(stem(w) for w in words(text) if w not in STOP_WORDS)


def sentences(text: str) -> list[str]:
    """The sentences of each line of ``text``: cut after ".", "!" or "?" before a capital or a
    digit, but not after an abbreviation or an initial ("e.g. Sinks", "J. Smith") nor inside
    a number ("$1.50")."""
    found: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _BOUNDARY.finditer(line):
            head = line[start : match.start()]
            if not (_ABBREVIATION.search(head) or _INITIAL.search(head)):
                found.append(head.strip())
                start = match.end()
        found.append(line[start:].strip())
    return [s for s in found if s]
