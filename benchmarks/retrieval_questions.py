# ruff: noqa: E501  (questions are data: one visitor sentence a line)
"""Questions for benchmarks/retrieval.py beyond the suites' own `sources:` cases.

The dev suites ask in English; a visitor may write in Spanish, French, German,
Portuguese, Italian or Dutch. Each suite question with a `sources:` expectation has two
translations here (written as a visitor would type them, the six languages in turn), and
a translation is expected to find the same pages. A question the suites no longer ask is
simply not used.
"""

from __future__ import annotations

# English suite question -> [(language, the same question in that language)]
TRANSLATIONS: dict[str, list[tuple[str, str]]] = {
    # bayview
    "How much do you charge to unclog a drain?": [
        ("es", "¿Cuánto cobran por desatascar un desagüe?"),
        ("fr", "Combien coûte le débouchage d'un évier ?"),
    ],
    "are you open saturdays": [
        ("de", "Habt ihr samstags geöffnet?"),
        ("pt", "Vocês abrem aos sábados?"),
    ],
    "Do you come out to Sooke?": [
        ("it", "Venite anche a Sooke?"),
        ("nl", "Komen jullie ook naar Sooke?"),
    ],
    "my pipe burst, who do I call at night??": [
        ("es", "se me reventó una tubería, ¿a quién llamo de noche?"),
        ("fr", "un tuyau a éclaté, qui dois-je appeler la nuit ?"),
    ],
    "Any discount for seniors?": [
        ("de", "Gibt es einen Rabatt für Senioren?"),
        ("pt", "Há desconto para idosos?"),
    ],
    "can I pay by cheque": [
        ("it", "posso pagare con un assegno?"),
        ("nl", "kan ik met een cheque betalen?"),
    ],
    "How long does a tankless water heater last?": [
        ("es", "¿Cuánto dura un calentador de agua sin tanque?"),
        ("fr", "Combien de temps dure un chauffe-eau sans réservoir ?"),
    ],
    "and how much is a water heater flush?": [
        ("de", "und was kostet das Spülen eines Warmwasserbereiters?"),
        ("pt", "e quanto custa a lavagem do aquecedor de água?"),
    ],
    # harbourvet
    "when does my kitten get her rabies shot??": [
        ("it", "quando deve fare il vaccino antirabbico la mia gattina?"),
        ("nl", "wanneer krijgt mijn kitten haar rabiësvaccin?"),
    ],
    "how much to get my new puppy chipped": [
        ("es", "¿cuánto cuesta ponerle el microchip a mi cachorro nuevo?"),
        ("fr", "combien coûte la puce électronique pour mon nouveau chiot ?"),
    ],
    "Can my dog have her breakfast the morning of her teeth cleaning?": [
        ("de", "Darf meine Hündin am Morgen ihrer Zahnreinigung frühstücken?"),
        ("pt", "A minha cadela pode tomar o pequeno-almoço na manhã da limpeza dentária?"),
    ],
    "Do you guys treat bearded dragons? Mine isn't eating": [
        ("it", "Curate le agame barbute? La mia non mangia"),
        ("nl", "Behandelen jullie baardagamen? De mijne eet niet"),
    ],
    "my cat just chewed on a lily and its sunday night, what do i do": [
        ("es", "mi gato acaba de morder una azucena y es domingo por la noche, ¿qué hago?"),
        ("fr", "mon chat vient de mâchouiller un lys et c'est dimanche soir, que dois-je faire ?"),
    ],
    "Could I pay off my dog's spay surgery in instalments over a few months?": [
        ("de", "Kann ich die Kastration meiner Hündin in Raten über ein paar Monate abbezahlen?"),
        ("pt", "Posso pagar a esterilização da minha cadela em prestações durante alguns meses?"),
    ],
    "We're with Petsecure - can you bill them directly or do I claim it myself?": [
        (
            "it",
            "Siamo assicurati con Petsecure: fatturate direttamente a loro o devo chiedere io il rimborso?",
        ),
        (
            "nl",
            "We zijn verzekerd bij Petsecure - factureren jullie rechtstreeks of moet ik het zelf declareren?",
        ),
    ],
    "First time coming in with my rescue dog. What should I bring, and how early should I get there?": [
        (
            "es",
            "Es la primera vez que voy con mi perro adoptado. ¿Qué debo llevar y con cuánta antelación debo llegar?",
        ),
        (
            "fr",
            "C'est ma première visite avec mon chien adopté. Que dois-je apporter et combien de temps à l'avance dois-je arriver ?",
        ),
    ],
    "is there anywhere to park at the clinic or do I need to find street parking": [
        (
            "de",
            "Kann man bei der Klinik parken oder muss ich einen Parkplatz auf der Straße suchen?",
        ),
        ("pt", "Há onde estacionar na clínica ou tenho de procurar lugar na rua?"),
    ],
    "how often does my dog need the kennel cough vaccine": [
        ("it", "ogni quanto il mio cane deve fare il vaccino contro la tosse dei canili?"),
        ("nl", "hoe vaak heeft mijn hond het kennelhoestvaccin nodig?"),
    ],
    # lupita
    "what do you charge for the chicken mole?": [
        ("es", "¿cuánto cuesta el mole de pollo?"),
        ("fr", "combien coûte le mole au poulet ?"),
    ],
    "are y'all open on thanksgiving? thinking of bringing the whole family": [
        ("de", "Habt ihr an Thanksgiving geöffnet? Wir möchten mit der ganzen Familie kommen"),
        ("pt", "Vocês abrem no Dia de Ação de Graças? Queria levar a família toda"),
    ],
    "what time do you stop serving lunch on weekdays? was hoping to come by around 3": [
        (
            "it",
            "a che ora smettete di servire il pranzo nei giorni feriali? pensavo di passare verso le 3",
        ),
        ("nl", "hoe laat stoppen jullie doordeweeks met de lunch? ik wilde rond 3 uur langskomen"),
    ],
    "We'll be 12 people for my dad's 60th. Do we have to pay anything upfront?": [
        (
            "es",
            "Seremos 12 personas para los 60 años de mi padre. ¿Hay que pagar algo por adelantado?",
        ),
        (
            "fr",
            "Nous serons 12 pour les 60 ans de mon père. Faut-il payer quelque chose à l'avance ?",
        ),
    ],
    "can I reserve one of the patio tables for saturday night?": [
        ("de", "Kann ich für Samstagabend einen Tisch auf der Terrasse reservieren?"),
        ("pt", "Posso reservar uma mesa na esplanada para sábado à noite?"),
    ],
    "r ur refried beans vegetarian": [
        ("it", "i vostri fagioli refritos sono vegetariani?"),
        ("nl", "zijn jullie refried beans vegetarisch?"),
    ],
    "My son has a peanut allergy - is the mole safe for him?": [
        ("es", "Mi hijo es alérgico al cacahuete, ¿puede comer el mole sin peligro?"),
        (
            "fr",
            "Mon fils est allergique aux arachides, est-ce que le mole est sans danger pour lui ?",
        ),
    ],
    "if I want you guys to cater an office lunch, how much notice do you need?": [
        (
            "de",
            "Wenn ihr das Mittagessen für unser Büro liefern sollt, wie früh muss ich Bescheid geben?",
        ),
        (
            "pt",
            "Se quiser que vocês sirvam um almoço no escritório, com quanta antecedência tenho de avisar?",
        ),
    ],
    "is it ok if we bring our own cake for a birthday?": [
        ("it", "possiamo portare una nostra torta per un compleanno?"),
        ("nl", "mogen we onze eigen taart meenemen voor een verjaardag?"),
    ],
    "Can I bring a bottle of wine from home to drink with dinner?": [
        ("es", "¿Puedo llevar una botella de vino de casa para tomar con la cena?"),
        ("fr", "Est-ce que je peux apporter ma propre bouteille de vin pour le dîner ?"),
    ],
    "when's happy hour and how much are margs during it?": [
        ("de", "Wann ist Happy Hour und was kosten die Margaritas dann?"),
        ("pt", "Quando é o happy hour e quanto custam as margaritas nessa altura?"),
    ],
}

# Questions no suite asks: (suite name, language, question, pages that answer it).
EXTRA: list[tuple[str, str, str, list[str]]] = [
    (
        "harbourvet",
        "fr",
        "Est-ce que la clinique est ouverte le samedi ? Jusqu'à quelle heure ?",
        ["index.html"],
    ),
    (
        "harbourvet",
        "fr",
        "combien coûte un examen de santé annuel pour mon chat ?",
        ["pricing.html"],
    ),
]
# The bayview questions this benchmark asked before it read the suites: more English,
# in a visitor's words rather than the pages'.
BAYVIEW_ENGLISH: list[tuple[str, str]] = [
    ("what does a service call cost", "pricing.html"),
    ("price of hydro jetting the main sewer line", "pricing.html"),
    ("do you offer financing for a heat pump", "pricing.html"),
    ("how much is a water heater flush", "pricing.html"),
    ("what time do you close on weekdays", "hours-and-area.html"),
    ("do you service Langford", "hours-and-area.html"),
    ("where is your shop located", "hours-and-area.html"),
    ("is there an extra fee for after hours call outs", "services.html"),
    ("which water heater brands do you install", "services.html"),
    ("how long does a furnace tune-up take", "services.html"),
    ("can you help with the CleanBC rebate", "services.html"),
    ("are estimates free", "faq.html"),
    ("are your plumbers licensed and insured", "faq.html"),
    ("what warranty do you give on your work", "faq.html"),
    ("what's your office phone number", "contact.html"),
    ("email address for service requests", "contact.html"),
    ("are you hiring apprentices", "careers.html"),
    ("do you sell my personal data", "privacy.html"),
    ("how long have you been in business", "index.html"),
]
