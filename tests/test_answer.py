"""The offline answerer quotes supported sentences verbatim, or abstains.

Knowledge is written the way small-business sites read: a plumbing company and a dental
clinic, each question asked with several distractor passages around the right one.
"""

from __future__ import annotations

import pytest

from agent.local.answer import MAX_LIST_ITEMS, Answer, answer_from


def page(source: str, text: str, kind: str = "website", uri: str = "") -> dict:
    host = "http://bayview.test/"
    return {"source": source, "uri": uri or host + source.split(" > ")[0], "kind": kind,
            "text": text, "similarity": 0.0, "keyword": 0.0}  # fmt: skip


def qa(question: str, answer: str, uri: str) -> dict:
    return page(f"Q&A: {question}", f"Q: {question}\nA: {answer}", "qa", uri)


# -- a plumbing and heating company -------------------------------------------------------

PRICING = page(
    "pricing.html > Pricing",
    "Flat-rate prices include labour and standard parts. GST is extra.\n"
    "Service: Drain cleaning, single fixture; Price: $149\n"
    "Service: Main sewer line camera inspection; Price: $189\n"
    "Service: Water heater flush; Price: $99\n"
    "Service: Tankless water heater installation; Price: from $2,400\n"
    "Service: Furnace tune-up; Price: $129\n"
    "Service: Toilet repair; Price: $119",
)
DISCOUNTS = page(
    "pricing.html > Discounts",
    "- Seniors (65+) receive 10% off any service.\n"
    "- Military veterans receive 10% off labour.\n"
    "- Discounts cannot be combined.",
)
PAYMENT = page(
    "pricing.html > Payment",
    "We accept Visa, Mastercard, debit and e-transfer. We do not accept cheques.\n"
    "Payment is due when the work is complete.",
)
SERVICES = page(
    "services.html > Services",
    "- Drain cleaning: We clear kitchen, bathroom and main sewer lines with hydro-jetting.\n"
    "- Water heaters: We repair and install tank and tankless water heaters from all major "
    "brands.\n"
    "- Repiping: Whole-house repiping with PEX or copper, usually finished in 2 to 3 days.",
)
FAQ = page(
    "faq.html > Frequently asked questions",
    "How long does a tankless water heater last?\n"
    "Tankless water heaters typically last 20 years or more, about twice as long as a tank.\n"
    "Is a furnace tune-up worth it?\n"
    "Annual furnace tune-ups take about 90 minutes. We check the burners, filter, heat "
    "exchanger and safety controls, which keeps the manufacturer's warranty valid.",
)
HOURS = page(
    "contact.html > Hours",
    "Monday to Friday 8:00 am to 6:00 pm. Saturday 9:00 am to 2:00 pm. Closed Sundays and "
    "statutory holidays (emergency line still open).",
)
VISIT = page(
    "contact.html > Visit us",
    "Our shop is at 1420 Bay Street, Victoria, BC V8R 1A1.\n"
    "Customers visiting the shop can park free in the three spots marked Bayview behind the "
    "building. Street parking on Bay Street is metered at $1.50 per hour, e.g. Mon. to Sat. "
    "until 6 p.m. Evenings are free.\n"
    "Office phone: 250-555-0100 (Monday to Friday).",
)
EMERGENCY = page(
    "emergency.html > 24/7 emergency service",
    "Burst pipe or no heat? Our emergency line is answered 24 hours a day, 7 days a week at "
    "250-555-0199. Emergency call-outs after hours carry a $95 surcharge.\n"
    "If you smell gas, leave the building first and call FortisBC at 1-800-663-9911.",
)
AREA = page(
    "service-area.html > Where we work",
    "We serve Greater Victoria, including Saanich, Oak Bay, Esquimalt, Langford, Colwood and "
    "View Royal.\n"
    "We do not currently serve Sooke or the Gulf Islands.\n"
    "There is no travel charge within our service area.",
)
ABOUT = page(
    "about.html > About us",
    "Bayview Plumbing & Heating has served Victoria since 1998. Our staff are licensed, insured "
    "and background-checked. All work meets the BC Plumbing Code and carries a two-year "
    "warranty.",
)
PROFILE = page(
    "business-profile > Opening hours",
    "- Monday: 08:00 to 18:00\n- Tuesday: 08:00 to 18:00\n- Wednesday: 08:00 to 18:00\n"
    "- Thursday: 08:00 to 18:00\n- Friday: 08:00 to 18:00\n- Saturday: 09:00 to 14:00\n"
    "- Sunday: closed\n- Time zone: America/Vancouver",
    "profile",
    "business-profile",
)
GAS_QA = qa(
    "Do you do gas fitting?",
    "Yes. All of our plumbers are certified gas fitters and we install gas lines for ranges, "
    "barbecues and fireplaces.",
    "qa-7",
)
HEATER_QA = qa(
    "Do you install water heaters?",
    "Yes. We install tank and tankless water heaters, usually the same week.",
    "qa-8",
)

# -- a dental clinic ----------------------------------------------------------------------

FEES = page(
    "fees.html > Fees",
    "Fees follow the 2025 BC Dental Association suggested fee guide.\n"
    "Service: New patient exam and X-rays; Price: $180\n"
    "Service: Cleaning and polish (adult); Price: $145\n"
    "Service: In-office teeth whitening; Price: $450\n"
    "Service: Custom night guard; Price: $520",
)
INSURANCE = page(
    "insurance.html > Insurance and payment",
    "We bill most insurance companies directly, including Pacific Blue Cross, Sun Life and "
    "Manulife. Any portion your plan does not cover is due at the visit.\n"
    "We are registered with the Canadian Dental Care Plan (CDCP).",
)
CLINIC_HOURS = page(
    "contact.html > Hours",
    "Tuesday to Friday 8:00 am to 5:00 pm.\n"
    "Saturday 9:00 am to 1:00 pm, by appointment only.\n"
    "Call 604-555-0143 to book, or use the online booking link.",
)
CLINIC_PROFILE = page(
    "business-profile > Opening hours",
    "- Monday: closed\n- Tuesday: 08:00 to 17:00\n- Wednesday: 08:00 to 17:00\n"
    "- Thursday: 08:00 to 17:00\n- Friday: 08:00 to 17:00\n- Saturday: 09:00 to 13:00\n"
    "- Sunday: closed",
    "profile",
    "business-profile",
)
CLINIC_SERVICES = page(
    "services.html > Services",
    "We offer cleanings, fillings, crowns, root canals and teeth whitening.\n"
    "Emergency appointments are available the same day for patients in pain.\n"
    "We refer orthodontic cases to a specialist.",
)
KIDS_QA = qa(
    "Do you see kids?",
    "Yes. We see children from age 2, and a parent can stay in the room for the whole visit.",
    "qa-3",
)


def ask(question: str, *passages: dict, similarity: float = 0.6, **kw: int) -> Answer | None:
    """Passages best first, as retrieval hands them over, with falling similarity."""
    ranked = [p | {"similarity": round(similarity - 0.05 * n, 3)} for n, p in enumerate(passages)]
    found = answer_from(question, ranked, **kw)
    if found is not None:  # the never-invent rule: every sentence is copied from a passage
        assert found.sentences and 0.0 <= found.support <= 1.0
        for sentence in found.sentences:
            assert any(sentence in p["text"] for p in passages), sentence
        limit = MAX_LIST_ITEMS if found.listing else kw.get("max_sentences", 2)
        assert len(found.sentences) <= limit
    return found


def said(found: Answer | None) -> str:
    assert found is not None, "expected an answer, got an abstention"
    return " ".join(found.sentences)


# -- plumbing: answers --------------------------------------------------------------------


def test_price_of_a_service_comes_from_the_pricing_row() -> None:
    found = ask("How much do you charge to unclog a drain?", SERVICES, PRICING, FAQ, EMERGENCY)
    assert found is not None
    assert found.sentences[0] == "Service: Drain cleaning, single fixture; Price: $149"
    assert found.sources[0] == {"source": PRICING["source"], "uri": PRICING["uri"]}


def test_opening_hours_for_one_day_quote_that_sentence() -> None:
    found = ask("are you open saturdays", HOURS, EMERGENCY, VISIT, PROFILE, AREA)
    assert found is not None
    assert found.sentences[0] == "Saturday 9:00 am to 2:00 pm."


def test_service_area_exclusion() -> None:
    found = ask("Do you come out to Sooke?", SERVICES, AREA, ABOUT, EMERGENCY, VISIT)
    assert found is not None
    assert found.sentences[0] == "We do not currently serve Sooke or the Gulf Islands."


def test_emergency_lead_in_brings_the_phone_number() -> None:
    found = ask("who do I call at night for a burst pipe??", EMERGENCY, VISIT, SERVICES, HOURS)
    assert found is not None
    assert found.sentences[0] == "Burst pipe or no heat?"
    assert "250-555-0199" in said(found)


def test_senior_discount() -> None:
    found = ask("Any discount for seniors?", PRICING, DISCOUNTS, PAYMENT, ABOUT, SERVICES)
    assert said(found) == "Seniors (65+) receive 10% off any service."


def test_payment_by_cheque() -> None:
    found = ask("can I pay by cheque", PRICING, PAYMENT, DISCOUNTS, ABOUT)
    assert said(found) == "We do not accept cheques."


def test_how_long_a_tankless_heater_lasts() -> None:
    found = ask("How long does a tankless water heater last?", SERVICES, PRICING, FAQ, HEATER_QA)
    assert found is not None
    assert "20 years" in said(found)
    assert found.sources[0]["source"] == FAQ["source"]


def test_gas_lines_for_a_bbq_quotes_the_qa_answer() -> None:
    found = ask("do you guys do gas lines for a bbq?", EMERGENCY, GAS_QA, SERVICES, PRICING)
    assert found is not None
    assert "gas lines" in said(found)
    assert found.sources == [{"source": "Q&A: Do you do gas fitting?", "uri": "qa-7"}]


def test_the_same_question_as_a_qa_quotes_its_answer_from_the_start() -> None:
    found = ask("Do you do gas fitting?", GAS_QA, EMERGENCY, SERVICES, similarity=0.9)
    assert found is not None
    assert found.sentences[0] == "Yes."
    assert "certified gas fitters" in found.sentences[1]


def test_parking() -> None:
    found = ask("Where can I park when I come to your shop?", HOURS, VISIT, AREA, ABOUT)
    assert found is not None
    assert found.sentences[0] == (
        "Customers visiting the shop can park free in the three spots marked Bayview behind "
        "the building."
    )


def test_duration_of_a_tune_up() -> None:
    found = ask("Is the furnace tune-up really 90 minutes?", PRICING, SERVICES, FAQ, HOURS)
    assert found is not None
    assert found.sentences[0] == "Annual furnace tune-ups take about 90 minutes."


def test_follow_up_price_question() -> None:
    found = ask("and how much is a water heater flush?", SERVICES, FAQ, PRICING, HEATER_QA)
    assert found is not None
    assert found.sentences[0] == "Service: Water heater flush; Price: $99"


def test_sentences_do_not_break_at_prices_or_abbreviations() -> None:
    found = ask("how much is street parking?", VISIT, PRICING, AREA, HOURS)
    assert found is not None
    assert found.sentences[0] == (
        "Street parking on Bay Street is metered at $1.50 per hour, e.g. Mon. to Sat. until 6 p.m."
    )


def test_a_second_passage_is_quoted_when_it_adds_the_price() -> None:
    found = ask("how much does it cost to unclog a kitchen drain?", SERVICES, PRICING, FAQ, AREA)
    assert found is not None
    assert found.sentences == [
        "Drain cleaning: We clear kitchen, bathroom and main sewer lines with hydro-jetting.",
        "Service: Drain cleaning, single fixture; Price: $149",
    ]
    assert [s["source"] for s in found.sources] == [SERVICES["source"], PRICING["source"]]


def test_max_sentences_is_respected() -> None:
    question = "who do I call at night for a burst pipe??"
    found = ask(question, EMERGENCY, VISIT, SERVICES, max_sentences=1)
    assert found is not None and found.sentences == ["Burst pipe or no heat?"]


def test_same_answer_whatever_the_retrieval_order() -> None:
    first = ask("can I pay by cheque", PAYMENT, PRICING, DISCOUNTS, ABOUT)
    last = ask("can I pay by cheque", ABOUT, DISCOUNTS, PRICING, PAYMENT)
    assert said(first) == said(last) == "We do not accept cheques."


# -- plumbing: abstentions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "passages"),
    [
        ("How much is a new boiler for a 3 bedroom house?", (PRICING, SERVICES, FAQ, HEATER_QA)),
        ("Can you write me a poem about the ocean?", (ABOUT, SERVICES, AREA, HOURS, FAQ)),
        ("What is the staff door code?", (ABOUT, VISIT, HOURS, EMERGENCY, PAYMENT)),
        ("Who won the hockey game last night?", (HOURS, EMERGENCY, FAQ, ABOUT, AREA)),
        ("Do you repair boilers?", (SERVICES, PRICING, FAQ, ABOUT)),
        ("How much does it cost?", (PRICING, SERVICES, FAQ, DISCOUNTS)),
        ("How much for a boiler flush?", (PRICING, SERVICES, FAQ)),
    ],
)
def test_abstains_without_support(question: str, passages: tuple[dict, ...]) -> None:
    assert ask(question, *passages) is None


def test_a_similar_qa_does_not_answer_for_something_it_never_mentions() -> None:
    assert ask("Do you install boilers?", HEATER_QA, SERVICES, PRICING, similarity=0.8) is None


def test_abstains_with_no_passages() -> None:
    assert answer_from("How much is a drain cleaning?", []) is None
    assert answer_from("", [PRICING]) is None


# -- a dental clinic ----------------------------------------------------------------------


def test_clinic_price() -> None:
    found = ask("how much is teeth whitening?", CLINIC_SERVICES, FEES, INSURANCE, CLINIC_HOURS)
    assert found is not None
    assert found.sentences[0] == "Service: In-office teeth whitening; Price: $450"


def test_clinic_direct_billing() -> None:
    found = ask("Do you direct bill Sun Life?", FEES, INSURANCE, CLINIC_PROFILE, CLINIC_HOURS)
    assert found is not None
    assert found.sentences[0] == (
        "We bill most insurance companies directly, including Pacific Blue Cross, Sun Life and "
        "Manulife."
    )


def test_clinic_qa_for_children() -> None:
    found = ask("do you see kids?", CLINIC_SERVICES, KIDS_QA, FEES, similarity=0.66)
    assert found is not None
    assert found.sentences == [
        "Yes.",
        "We see children from age 2, and a parent can stay in the room for the whole visit.",
    ]


def test_clinic_closed_day_from_the_profile() -> None:
    found = ask("Are you open on Mondays?", CLINIC_HOURS, CLINIC_PROFILE, CLINIC_SERVICES)
    assert said(found) == "Monday: closed"
    assert found is not None and found.sources[0]["uri"] == "business-profile"


def test_clinic_phone_number_for_a_bare_question() -> None:
    found = ask("what's your phone number?", CLINIC_HOURS, CLINIC_SERVICES, FEES)
    assert "604-555-0143" in said(found)


def test_clinic_hours_for_a_bare_question_list_both_lines() -> None:
    found = ask("When are you open?", CLINIC_HOURS, CLINIC_SERVICES, FEES, INSURANCE)
    assert found is not None
    assert found.sentences == [
        "Tuesday to Friday 8:00 am to 5:00 pm.",
        "Saturday 9:00 am to 1:00 pm, by appointment only.",
    ]


WORKSHOP_HOURS = page(
    "contact.html > Contact us > Opening hours",
    "The workshop closes for lunch from 12:30 to 13:30 on weekdays. On Thursdays we stay "
    "open late until 19:00.\n"
    "Day: Monday; Hours: Closed\n"
    "Day: Tuesday; Hours: 08:30-12:30, 13:30-17:30\n"
    "Day: Thursday; Hours: 08:30-12:30, 13:30-19:00\n"
    "Day: Saturday; Hours: 09:00-16:00\n"
    "We also close on bank holidays.",
)


def test_a_general_hours_question_gets_the_whole_table_not_the_prose_around_it() -> None:
    found = ask("What are your opening hours?", WORKSHOP_HOURS, CLINIC_SERVICES, FEES)
    assert found is not None and found.listing
    assert found.sentences == [
        "Day: Monday; Hours: Closed",
        "Day: Tuesday; Hours: 08:30-12:30, 13:30-17:30",
        "Day: Thursday; Hours: 08:30-12:30, 13:30-19:00",
        "Day: Saturday; Hours: 09:00-16:00",
    ]


def test_a_general_hours_question_gets_the_profile_list_whole() -> None:
    found = ask("what are your hours?", CLINIC_PROFILE, CLINIC_SERVICES, FEES, INSURANCE)
    assert found is not None and found.listing
    assert found.sentences[0] == "Monday: closed" and found.sentences[-1] == "Sunday: closed"
    assert len(found.sentences) == 7


def test_a_question_about_one_day_still_quotes_that_day() -> None:
    found = ask("Are you open on Saturday?", WORKSHOP_HOURS, CLINIC_SERVICES)
    assert found is not None and not found.listing
    assert said(found) == "Day: Saturday; Hours: 09:00-16:00"


def test_clinic_dental_plan() -> None:
    question = "Do you take the Canadian Dental Care Plan?"
    found = ask(question, INSURANCE, FEES, CLINIC_SERVICES, CLINIC_HOURS)
    assert said(found) == "We are registered with the Canadian Dental Care Plan (CDCP)."


@pytest.mark.parametrize(
    "question",
    [
        "Do you do braces?",
        "How much is a dental implant?",
        "Can I bring my dog?",
        "What's the wifi password?",
    ],
)
def test_clinic_abstains(question: str) -> None:
    found = ask(question, CLINIC_SERVICES, FEES, INSURANCE, CLINIC_HOURS, KIDS_QA)
    assert found is None


# -- a bike shop --------------------------------------------------------------------------

RENTALS = page(
    "rentals.html > Rentals",
    "Service: City bike rental, full day; Price: $35\n"
    "Service: E-bike rental, full day; Price: $65\n"
    "Helmets and locks are included with every rental.",
)
WELCOME = page(
    "index.html > Welcome",
    "Open Tuesday to Sunday, 10 a.m. to 6 p.m. Closed Mondays.\n"
    "Our café serves espresso while you wait for a tune-up.\n"
    "Tune-ups start at $79 and most are ready the same day.",
)


def test_bike_rental_price_tells_e_bikes_from_bikes() -> None:
    found = ask("How much to rent an e-bike for the day?", WELCOME, RENTALS)
    assert (
        found is not None and found.sentences[0] == "Service: E-bike rental, full day; Price: $65"
    )


def test_bike_shop_accents_and_closed_day() -> None:
    assert said(ask("do you have a cafe?", RENTALS, WELCOME)) == (
        "Our café serves espresso while you wait for a tune-up."
    )
    assert said(ask("Are you open on Mondays?", WELCOME, RENTALS)) == "Closed Mondays."


def test_bike_shop_abstains() -> None:
    assert ask("Do you sell skateboards?", WELCOME, RENTALS) is None
    assert ask("How much is a new carbon frame?", RENTALS, WELCOME) is None


# -- behaviours behind the rules ----------------------------------------------------------


def test_an_faq_question_line_is_context_not_the_answer() -> None:
    found = ask("Is a furnace tune-up worth it?", FAQ, PRICING, SERVICES)
    assert found is not None
    assert found.sentences[0] == "Annual furnace tune-ups take about 90 minutes."


def test_a_second_unit_adds_what_the_first_lacks() -> None:
    found = ask("do you charge for travel to Langford?", AREA, PRICING, SERVICES, ABOUT)
    assert found is not None
    assert found.sentences[0] == "There is no travel charge within our service area."
    assert "Langford" in found.sentences[1]
    assert found.sources == [{"source": AREA["source"], "uri": AREA["uri"]}]


def test_amount_in_words_matches_a_currency_amount() -> None:
    found = ask("Is the surcharge really 95 dollars?", EMERGENCY, PRICING, HOURS)
    assert said(found) == "Emergency call-outs after hours carry a $95 surcharge."


def test_a_yes_no_qa_does_not_answer_a_price_question() -> None:
    assert ask("How much is gas fitting?", GAS_QA, PRICING, SERVICES, similarity=0.8) is None


def test_action_words_count_only_when_the_site_uses_them() -> None:
    found = ask("How much is a cleaning?", CLINIC_SERVICES, FEES, INSURANCE)
    assert said(found) == "Service: Cleaning and polish (adult); Price: $145"
    assert ask("Can you fix it today?", SERVICES, PRICING, FAQ, EMERGENCY) is None


# -- a pub: compounds, questions in two parts, and meaning --------------------------------

HAPPY_HOUR = page(
    "menu.html > Menu > Happy hour",
    "Monday to Thursday, 4:00 to 6:00 pm at the bar: draft pints $5 and half-price wings.\n"
    "Kids eat free on Sundays with an adult meal.",
)
PUB_HOURS = page("hours.html > Hours", "Open daily 11:00 am to midnight.")
PUB_MENU = page(
    "menu.html > Menu",
    "Service: Wings, one pound; Price: $14\n"
    "Service: Fish and chips; Price: $19\n"
    "Service: Microchipping for pub dogs; Price: $45",
)
PUB = [HAPPY_HOUR, PUB_HOURS, PUB_MENU]


@pytest.fixture(scope="module")
def meaning():
    from agent.local.meaning import Meaning
    from ingestion.embed import shared_embedder

    return Meaning(shared_embedder().embed)


def test_a_word_matches_the_compound_that_ends_with_it():
    answer = answer_from("how much to get my dog chipped?", PUB)
    assert answer is not None and answer.sentences == [
        "Service: Microchipping for pub dogs; Price: $45"
    ]
    assert answer_from("how much is a lobster roll?", PUB) is None


def test_a_two_part_question_is_answered_part_by_part():
    answer = answer_from("How much is the fish and chips, and do kids eat free?", PUB)
    assert answer is not None
    assert answer.sentences == [
        "Service: Fish and chips; Price: $19",
        "Kids eat free on Sundays with an adult meal.",
    ]
    assert answer.unanswered == []


def test_the_part_the_knowledge_cannot_answer_is_named():
    answer = answer_from("How much is the fish and chips, and do you have a patio?", PUB)
    assert answer is not None and answer.sentences == ["Service: Fish and chips; Price: $19"]
    assert answer.unanswered == ["do you have a patio?"]


def test_meaning_answers_what_the_words_alone_do_not(meaning):
    question = "when is happy hour?"
    assert answer_from(question, PUB) is None  # "happy" and "hour" decide nothing alone
    answer = answer_from(question, PUB, meaning=meaning)
    assert answer is not None
    assert answer.sentences == [HAPPY_HOUR["text"].splitlines()[0]]
    assert answer.sources == [{"source": HAPPY_HOUR["source"], "uri": HAPPY_HOUR["uri"]}]


def test_meaning_never_answers_about_something_the_knowledge_never_names(meaning):
    for question in ("how much is the lobster roll?", "do you have a pool table?"):
        assert answer_from(question, PUB, meaning=meaning) is None


def test_the_sentence_vectors_are_computed_once(meaning):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return meaning.vectors(texts)

    from agent.local.meaning import Meaning

    counted = Meaning(embed)
    counted.vectors(["a", "b"])
    counted.vectors(["b", "c", "a"])
    assert calls == [["a", "b"], ["c"]]


QUIZ = page(
    "events.html > Events > Quiz night",
    "Quiz night is every Wednesday at 8:00 pm; teams of up to six play for a bar tab.",
)
PAYMENT = page(
    "visit.html > Visit > Payment",
    "Payment is due when you order at the bar.\n"
    "We accept Visa, Mastercard, debit and cash. We do not accept cheques.",
)


def test_a_sentence_that_only_sets_the_scene_blocks_nothing():
    question = "My labrador snores terribly. How much to get my dog chipped?"
    answer = answer_from(question, PUB)
    assert answer is not None
    assert answer.sentences == ["Service: Microchipping for pub dogs; Price: $45"]
    # asked in one sentence, the unknown breed is the subject: no answer
    assert answer_from("How much to get my labrador's snoring fixed?", PUB) is None


def test_payment_methods_are_answered_with_the_methods():
    for question in ("What payment methods do you take?", "How can I pay?"):
        answer = answer_from(question, [PAYMENT, *PUB])
        assert answer is not None, question
        assert "We accept Visa, Mastercard, debit and cash." in answer.sentences


def test_one_unknown_word_among_known_ones_is_phrasing(meaning):
    answer = answer_from(
        "when does quiz night start for trivia teams?", [QUIZ, *PUB], meaning=meaning
    )
    assert answer is not None and answer.sentences == [QUIZ["text"]]


def test_the_unknown_word_that_is_asked_for_still_abstains(meaning):
    for question in (
        "How many calories are in the fish and chips?",
        "what allergens are in the fish and chips?",
    ):
        assert answer_from(question, [QUIZ, *PUB], meaning=meaning) is None, question


PUB_CATERING = page(
    "catering.html > Catering",
    "Our buffet is $20 per person.\nPlease order at least 48 hours ahead.\n"
    "Catering is invoiced when you confirm your order.",
)


def test_how_much_notice_asks_for_a_time_not_a_price():
    question = "if we want you to cater a retirement party, how much notice do you need?"
    answer = answer_from(question, [PUB_CATERING, *PUB])
    assert answer is not None and answer.sentences == ["Please order at least 48 hours ahead."]
    answer = answer_from("How do we pay for catering?", [PUB_CATERING, *PUB])
    assert answer is not None
    assert answer.sentences == ["Catering is invoiced when you confirm your order."]


# -- questions in other languages (rule 9) -------------------------------------------------


@pytest.fixture(scope="module")
def multilingual():
    from agent.local.meaning import Meaning
    from ingestion.multilingual import shared_multilingual_embedder

    return Meaning(shared_multilingual_embedder().embed)


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("¿Cuánto cuesta el fish and chips?", "es", "Service: Fish and chips; Price: $19"),
        ("Quand a lieu le quiz ?", "fr", QUIZ["text"]),
        ("Wie viel kostet ein Bier zur Happy Hour?", "de", HAPPY_HOUR["text"].splitlines()[0]),
        ("Quanto custa o buffet do catering?", "pt", "Our buffet is $20 per person."),
    ],
)
def test_a_question_in_another_language_is_answered_from_english_knowledge(
    multilingual, question, language, expected
):
    knowledge = [QUIZ, PUB_CATERING, *PUB]
    answer = answer_from(question, knowledge, meaning=multilingual, language=language)
    assert answer is not None and answer.sentences == [expected]


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Cuánto cuesta la langosta?", "es"),
        ("Avez-vous une table de billard ?", "fr"),
        ("Habt ihr einen Parkplatz?", "de"),
    ],
)
def test_a_question_in_another_language_about_nothing_known_abstains(
    multilingual, question, language
):
    knowledge = [QUIZ, PUB_CATERING, *PUB]
    assert answer_from(question, knowledge, meaning=multilingual, language=language) is None
    assert answer_from(question, knowledge, language=language) is None  # no model: no answer


PUB_FAQ = page(
    "faq.html > FAQ > Can I bring my own cake?",
    "Of course! We charge a $3 per person cake-cutting fee.",
)
PUB_LUNCH = page("hours.html > Hours > Lunch", "Monday to Friday 11:30 am to 2:00 pm.")


def test_an_faq_question_asked_in_other_words_gets_its_answer(meaning):
    knowledge = [PUB_FAQ, QUIZ, *PUB]
    question = "Is it ok if we bring a birthday cake from home for my wife?"
    answer = answer_from(question, knowledge, meaning=meaning)
    assert answer is not None
    assert answer.sentences == ["Of course!", "We charge a $3 per person cake-cutting fee."]
    # a different question about the same things is not the FAQ's
    assert answer_from("Can I bring my dog to the quiz?", knowledge, meaning=meaning) != answer


def test_weekdays_are_monday_to_friday(meaning):
    question = "until when is lunch served on weekdays?"
    answer = answer_from(question, [PUB_LUNCH, *PUB], meaning=meaning)
    assert answer is not None and answer.sentences == [PUB_LUNCH["text"]]


def test_two_words_match_the_compound_of_an_initial_and_a_word():
    found = ask("how much to rent an electric bike?", RENTALS, WELCOME)
    assert found is not None
    assert found.sentences[0] == "Service: E-bike rental, full day; Price: $65"


def test_renting_or_selling_is_never_just_phrasing():
    faq = page("faq.html > FAQ > How long can I leave my bike?", "We store bikes for 14 days.")
    knowledge = [faq]
    assert ask("Do you rent bikes?", *knowledge) is None
    assert ask("Do you sell bikes?", *knowledge) is None


def test_a_list_answering_one_part_stays_whole():
    question = "When are you open, and how much is the fish and chips?"
    answer = answer_from(question, [WORKSHOP_HOURS, *PUB])
    assert answer is not None and answer.listing
    assert "Service: Fish and chips; Price: $19" in answer.sentences
    assert len(answer.sentences) > 3  # every day of the table, not the first two


def test_a_payment_method_the_knowledge_never_names_gets_the_methods_taken():
    answer = answer_from("Can I pay with Amex?", [PAYMENT, *PUB])
    assert answer is not None
    assert answer.sentences[0] == "We accept Visa, Mastercard, debit and cash."
    answer = answer_from("Do you take cheques?", [PAYMENT, *PUB])  # named: that sentence
    assert answer is not None and "We do not accept cheques." in answer.sentences
    assert answer_from("Do you take bookings for groups of ten?", [PAYMENT, *PUB]) is None


def test_a_compound_question_word_matches_the_word_it_ends_with():
    services = page("menu.html > Menu", "We do not offer nail or lash services.")
    answer = answer_from("Do you do eyelash tinting?", [services, *PUB])
    assert answer is None  # "tinting" is not known: no answer, but for that word alone
    answer = answer_from("Do you do eyelash services?", [services, *PUB])
    assert answer is not None and answer.sentences == ["We do not offer nail or lash services."]


def test_what_happens_if_is_only_phrasing():
    policy = page(
        "policies.html > Policies > Cancellations",
        "Please cancel at least 48 hours before your appointment.",
    )
    answer = answer_from("what happens if I cancel my appointment?", [policy, *PUB])
    assert answer is not None and answer.sentences == [policy["text"]]


def test_a_part_about_the_previous_part_is_answered_from_the_same_passage():
    house_calls = {
        "source": "Q&A: Do you do house calls?",
        "uri": "",
        "kind": "qa",
        "text": "Q: Do you do house calls?\nA: Yes. Dr. Lee makes house calls on Fridays.\n"
        "The house call fee is $95.",
    }
    answer = answer_from("Do you do house calls? How much are they?", [house_calls, *PUB])
    assert answer is not None
    assert answer.sentences[-1] == "The house call fee is $95."
    assert answer.unanswered == []


# -- the visitor's words for what the knowledge calls otherwise (rule 10) ------------------

YOGA_BEFORE = page(
    "classes.html > Classes > Hot yoga",
    "Hot yoga classes run at 38 degrees for 60 minutes.\n"
    "Please do not eat a meal in the two hours before class; sipping water is fine.",
)
YOGA_SPECIES = page(
    "studio.html > Studio > Who can join",
    "Our classes are for adults and teens aged 14 and up.\n"
    "We do not offer classes for toddlers or babies; we recommend Little Lotus on Main Street.",
)
YOGA_PRICES = page(
    "prices.html > Prices",
    "Service: Drop-in class; Price: $22\nService: 10-class pass; Price: $190\n"
    "Service: Monthly unlimited; Price: $149",
)
YOGA_HOURS = page(
    "business-profile > Lotus Yoga > Opening hours",
    "- Monday: 07:00 to 21:00\n- Tuesday to Friday: 07:00 to 20:00\n"
    "- Saturday: 08:00 to 12:00\n- Sunday: 10:00 to 14:00",
)
YOGA_PARKING = page(
    "visit.html > Visit > Parking",
    "Free parking behind the studio; the entrance is on Elm Lane.",
)
YOGA = [YOGA_BEFORE, YOGA_SPECIES, YOGA_PRICES, YOGA_HOURS, YOGA_PARKING]


WHITENING = page(
    "care.html > Aftercare > Dental whitening",
    "Whitening takes about 90 minutes in the chair.\n"
    "Avoid coffee, red wine and other dark drinks for 48 hours after whitening.",
)


def test_the_knowledge_words_for_the_visitor_words_answer(meaning):
    knowledge = [WHITENING, YOGA_SPECIES, YOGA_PRICES, YOGA_PARKING]
    question = "is a latte ok the day after bleaching my teeth?"
    assert answer_from(question, knowledge) is None  # latte, bleaching, teeth: never used
    answer = answer_from(question, knowledge, meaning=meaning)
    assert answer is not None
    assert answer.sentences == [WHITENING["text"].splitlines()[1]]


def test_a_no_answer_in_the_class_of_what_was_asked_is_quoted(meaning):
    answer = answer_from("Do you have classes for infants?", YOGA, meaning=meaning)
    assert answer is not None
    assert answer.sentences[-1].startswith("We do not offer classes for toddlers or babies")


def test_names_and_look_alikes_are_never_bridged(meaning):
    for question in (
        "How much is a Peloton bike class?",  # a name: another thing, whatever it resembles
        "How much is a pilates reformer session?",  # a look-alike, not a clear winner
        "How many calories does hot yoga burn?",  # what is asked for is unknown
    ):
        assert answer_from(question, YOGA, meaning=meaning) is None, question


def test_a_day_named_in_another_language_picks_that_day(multilingual):
    from agent.local.answer import days_named

    assert days_named("Tuesday to Friday: 07:00 to 20:00") == {
        "tuesday", "wednesday", "thursday", "friday"
    }  # fmt: skip
    assert days_named("Closed Sundays and holidays") == {"sunday"}
    hours = page(
        "business-profile > Lotus Yoga Studio > Opening hours",
        "- Monday: 07:00 to 21:00\n- Tuesday to Friday: 07:00 to 20:00\n"
        "- Saturday: 08:00 to 12:00\n- Sunday: closed",
    )
    knowledge = [YOGA_BEFORE, YOGA_SPECIES, YOGA_PRICES, hours, YOGA_PARKING]
    for question, language in (
        ("¿El estudio abre el sábado? ¿Hasta qué hora?", "es"),
        ("Il studio è aperto il sabato? Fino a che ora?", "it"),
        ("Est-ce que le studio est ouvert le samedi ? Jusqu'à quelle heure ?", "fr"),
    ):
        answer = answer_from(question, knowledge, meaning=multilingual, language=language)
        assert answer is not None and answer.sentences == ["Saturday: 08:00 to 12:00"], question


# -- a question that asks nothing of its own is about the scene before it (rule 11) ----------

GARAGE_EMERGENCY = page(
    "emergency.html > Roadside help",
    "During opening hours, call the shop at 604-555-0170 and we will tow you in.\n"
    "At night, on Sundays and on holidays, call Coastal Towing at 604-555-0199.\n"
    "- Flat tyres\n- Dead batteries\n- Overheating engines",
)
GARAGE_HOURS = page(
    "index.html > Hours",
    "Monday to Friday 8:00 am to 6:00 pm. Saturday 9:00 am to 2:00 pm. Closed Sundays.",
)
GARAGE_PRICES = page("prices.html > Prices", "Service: Oil change; Price: $79")
GARAGE = [GARAGE_EMERGENCY, GARAGE_HOURS, GARAGE_PRICES]


def test_what_to_do_is_answered_from_the_passage_about_the_scene():
    question = "my engine is overheating on the highway and it's sunday, what should i do?"
    answer = answer_from(question, GARAGE)
    assert answer is not None
    assert answer.sentences == [GARAGE_EMERGENCY["text"].splitlines()[1]]
    # a scene the knowledge says nothing about gets no answer
    assert answer_from("my cat is stuck up a tree and it's sunday, what do i do?", GARAGE) is None


STUDIO_PRICES = page(
    "prices.html > Prices",
    "Service: Drop-in class; Price: $22\nService: Monthly unlimited; Price: $149\n"
    "Service: Mat rental; Price: $3\nService: Towel rental; Price: $2",
)
STUDIO_SHOWERS = page(
    "visit.html > Visit > Showers", "Showers and lockers are in the basement; bring your own lock."
)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("¿Cuánto cuesta alquilar una toalla?", "es"),
        ("Quanto custa alugar uma toalha?", "pt"),
        ("Hoeveel kost een handdoek huren?", "nl"),
    ],
)
def test_foreign_words_find_their_english_translation(multilingual, question, language):
    """No name or cognate in common ("toalla" / "towel"): the words' vectors tie them."""
    knowledge = [STUDIO_PRICES, YOGA_PARKING, STUDIO_SHOWERS, YOGA_BEFORE, YOGA_SPECIES]
    answer = answer_from(question, knowledge, meaning=multilingual, language=language)
    assert answer is not None and answer.sentences == ["Service: Towel rental; Price: $2"]
    for other in ("¿Cuánto cuesta una sauna?", "Wie viel kostet eine Sauna?"):
        language = "es" if other.startswith("¿") else "de"
        assert answer_from(other, knowledge, meaning=multilingual, language=language) is None


# -- a custom Q&A asked in other words (rule 12) ------------------------------------------

HOME_VISITS = qa(
    "Do you make home visits?",
    "Yes. A technician visits homes and small offices across Victoria on weekdays. "
    "The visit fee is $80 plus parts.",
    "qa-1",
)
PC_PRICES = page(
    "prices.html > Prices",
    "Service: Virus removal; Price: $99\nService: Screen replacement; Price: from $180",
)
PC_FAQ = page("faq.html > FAQ > Do you fix Macs?", "Yes.\nWe repair Macs and PCs of any age.")
PC_HOURS = page("index.html > Hours", "Monday to Friday 9:00 am to 5:00 pm. Closed weekends.")
PC_SHOP = [HOME_VISITS, PC_PRICES, PC_FAQ, PC_HOURS]


def test_a_custom_qa_asked_in_other_words_gets_its_answer(meaning):
    question = "can your techs come to our home?"
    assert answer_from(question, PC_SHOP) is None
    answer = ask(question, *PC_SHOP, meaning=meaning)
    assert answer is not None
    assert answer.sentences == [
        "Yes.",
        "A technician visits homes and small offices across Victoria on weekdays.",
    ]
    # the price asked next comes from the same Q&A, not from another "Yes."
    two_parts = "can your techs come to our home? how much is that?"
    answer = answer_from(two_parts, PC_SHOP, meaning=meaning)
    assert answer is not None and answer.sentences[-1] == "The visit fee is $80 plus parts."
    for other in (
        "Can a plumber come to our home?",  # a word the Q&A has nothing close to
        "Can an Apple Genius come to our home?",  # a name
        "Can someone come to my home to fix my fridge?",
    ):
        assert ask(other, *PC_SHOP, meaning=meaning) is None, other


# -- when to pay: deposits, payment in full, instalments (rule 13) ------------------------

DENTAL_FAQ = page(
    "faq.html > FAQ > Do you offer payment plans?",
    "No.\nPayment is due in full on the day of treatment.",
)
DENTAL_WHITENING = page(
    "services.html > Services > Whitening",
    "In-office whitening takes 90 minutes.\nA $100 deposit secures your whitening appointment.",
)
DENTAL_PRICES = page(
    "prices.html > Prices",
    "Service: Porcelain crown; Price: $1,200\nService: Cleaning and exam; Price: $180",
)
DENTAL = [DENTAL_PRICES, DENTAL_WHITENING, DENTAL_FAQ]


def test_when_to_pay_is_answered_by_the_payment_terms():
    answer = ask("Could I pay for my crown in monthly instalments?", *DENTAL)
    assert answer is not None
    assert answer.sentences == ["Payment is due in full on the day of treatment."]
    answer = ask("Do I have to pay anything upfront for whitening?", *DENTAL)
    assert answer is not None
    assert answer.sentences == ["A $100 deposit secures your whitening appointment."]
    # a treatment the clinic never names gets no terms at all
    assert ask("Do you offer financing for dental implants?", *DENTAL) is None
    # financing is no answer to a deposit, nor a deposit to instalments
    financing = page("prices.html > Financing", "Financing is available for crowns over $1,000.")
    assert ask("Is there a deposit for a crown?", DENTAL_PRICES, financing) is None
    answer = ask("Can I pay for a crown in instalments?", DENTAL_PRICES, financing)
    assert answer is not None and answer.sentences == [financing["text"]]
    assert ask("Can I pay for whitening in instalments?", DENTAL_WHITENING) is None
