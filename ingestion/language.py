"""Which language a search query is in, so the index knows which embedding to trust.

The knowledge is English and MiniLM reads English only, so an English query is searched
exactly as before and only a query in another language goes through the multilingual
model. The agent has its own detector (agent.local.nlu) for framing replies; ingestion
may not import it, so this one uses lingua directly over the same seven languages.

A wrong "not English" costs more than a wrong "English" (USE ranks English questions
worse than MiniLM does; a foreign question misread as English still has BM25 for the
names and numbers it shares with the page), so the answer is "en" when the detector is
unsure or the query has fewer than three words ("Sooke?", "menu", "ok thanks"). Measured
on the 108 questions of benchmarks/retrieval.py plus short English queries, lingua's
high-accuracy models misread one query with these rules and its low-accuracy ones seven.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from agent.text import plainly_english

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")
MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")


@cache
def _detector() -> Any:
    """Built on first use; its n-gram models load lazily (about 170 MB, 1-2 s)."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGUAGES]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_minimum_relative_distance(0.2)
        .build()
    )


def query_language(text: str) -> str:
    """ISO 639-1 code of ``text`` among LANGUAGES; "en" when unsure or too short to tell."""
    if len(_WORD.findall(text or "")) < MIN_WORDS or plainly_english(text):
        return "en"  # too short to tell, or English beyond doubt: no detector needed
    found = _detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found else "en"
