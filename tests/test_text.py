"""The shared text toolkit: the answer module, link matching and the BM25 index read words
through it, so forms of a word must agree wherever they are compared."""

from __future__ import annotations

import pytest

from agent.text import SEARCH_STOP_WORDS, STOP_WORDS, fold, sentences, stem, stems, words
from ingestion.bm25 import tokenize


def test_fold_drops_case_and_accents() -> None:
    assert fold("Cuánto cuesta el Café?") == "cuanto cuesta el cafe?"
    assert fold("Straße") == "straße"  # a letter with no accent to drop stays


def test_english_fold_reads_contractions_and_prefixes_as_one_word() -> None:
    assert fold("What\u2019s the E-bike price? We won't", english=True) == (
        "what the ebike price? we will not"
    )
    assert fold("What's", english=False) == "what's"


def test_words_are_folded_and_drop_single_letters() -> None:
    assert words("I'd like 2 e-bikes at the Café—today") == [
        "like",
        "2",
        "ebikes",
        "at",
        "the",
        "cafe",
        "today",
    ]


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (["cheque", "cheques"], "chequ"),
        (["book", "books", "booking", "bookings", "booked"], "book"),
        (["price", "prices", "pricing", "priced"], "pric"),
        (["clean", "cleans", "cleaning", "cleaned"], "clean"),
        (["battery", "batteries"], "battery"),
        (["saturday", "saturdays"], "saturday"),
        (["run", "running"], "run"),
        (["clog", "clogged"], "clog"),
        (["child", "children"], "child"),
        (["class", "classes"], "class"),
        (["glass"], "glass"),
        (["bus"], "bus"),
        (["24"], "24"),
    ],
)
def test_forms_of_a_word_share_a_stem(forms: list[str], expected: str) -> None:
    assert {stem(f) for f in forms} == {expected}


def test_stems_leave_out_stop_words() -> None:
    assert stems("Do you take cheques on Saturdays?") == {"tak", "chequ", "saturday"}
    assert {"the", "how", "you", "much"} <= STOP_WORDS


def test_sentences_do_not_break_at_abbreviations_initials_or_prices() -> None:
    text = (
        'Parking is $1.50 per hour, e.g. Mon. to Sat. Ask J. Smith. "Call us!" Then come.\n'
        "second line. lower case goes on"
    )
    assert sentences(text) == [
        "Parking is $1.50 per hour, e.g. Mon. to Sat.",
        "Ask J. Smith.",
        '"Call us!"',
        "Then come.",
        "second line. lower case goes on",
    ]


def test_the_index_and_the_answer_stem_alike() -> None:
    question, knowledge = "Do you take cheques?", "Cheque payments accepted"
    assert stems(question) & stems(knowledge) == {"chequ"}
    assert "chequ" in set(tokenize(question)) & set(tokenize(knowledge))


def test_the_index_keeps_words_that_tell_passages_apart() -> None:
    assert SEARCH_STOP_WORDS < STOP_WORDS
    assert {"no", "not", "until"} <= set(tokenize("No charge, not on Sundays, open until 6"))
    assert not {"no", "not", "until"} & stems("No charge, not on Sundays, open until 6")


def test_plainly_english_needs_no_detector():
    from agent.text import plainly_english

    for text in (
        "how much do you charge for a lawn aeration?",
        "Can you tell me when the yoga studio opens on Sunday?",
    ):
        assert plainly_english(text), text
    for text in (
        "ok thanks",  # too short to tell
        "¿Cuánto cuesta la clase de yoga?",  # not plain ASCII
        "Quanto costa una lezione di prova?",  # Italian, no English-only word
        "Hebben jullie open op zondag? Is het druk?",  # "is" and "open" are Dutch too
        "Was kostet die Probestunde im Studio?",  # "was" and "die" are German
        "le studio est ouvert le dimanche, nous pouvons venir",
    ):
        assert not plainly_english(text), text
