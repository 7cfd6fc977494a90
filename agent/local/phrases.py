"""The offline model's own sentences, in the languages it can reply in.

Only the receptionist's framing is translated; quoted knowledge stays as written. Every
language has every English key, and each but English has "answer_intro" (an English answer
is quoted without one); dates and times are written the language's own way (`when_text`).
"""

from __future__ import annotations

from datetime import datetime

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hi! How can I help you today?",
        "thanks": "You're welcome! Is there anything else I can help with?",
        "abstain": (
            "I'm not sure about that, and I'd rather not guess. I can pass your question to "
            "our team so a person can follow up. Would you like that?"
        ),
        "off_topic": (
            "I can only help with questions about {business}. I can also pass your message "
            "to our team if you'd like a person to follow up."
        ),
        "refuse": (
            "Sorry, I can't share that. I'm here to help with questions about {business}, "
            "bookings, or getting you in touch with our team."
        ),
        "handoff": "I've asked a member of our team to take over; they'll reply here shortly.",
        "handoff_closed": (
            "I've passed your message to our team. We're closed right now, so a person will "
            "reply when we're back, {opens}."
        ),
        "noted": "Thanks, {name}. I've noted your details.",
        "noted_anon": "Thanks, I've noted your details.",
        "bad_detail": "Sorry, {error}. Could you check it?",
        "ask_contact": "Could I get {items}?",
        "your_name": "your name",
        "phone": "the best phone number to reach you",
        "email": "your email address",
        "and": "and",
        "callback": "Of course, someone from our team will call you back.",
        "callback_ready": "Someone from our team will call you back at {phone}.",
        "booked": "You're booked for {when}. See you then!",
        "available": "{when} is available.",
        "closed_day": "Sorry, we're closed on {weekday}s.",
        "unavailable": "Sorry, {when} isn't available ({why}).",
        "offer": "I can offer {slots}. Which suits you?",
        "offer_next": "The next free times are {slots}. Which suits you?",
        "no_slots": "I couldn't find a free time in the next two weeks.",
        "ask_time": "Which day and time would suit you?",
        "link": "Here's the link: {markdown}",
        "no_link": "Sorry, I don't have a link for that.",
        "anything_else": "Is there anything else I can help with?",
        "partial": (
            "I couldn't find an answer to the rest of your question; I can pass it to our team."
        ),
    },
    "es": {
        "greeting": "¡Hola! ¿En qué puedo ayudarle hoy?",
        "thanks": "¡De nada! ¿Puedo ayudarle con algo más?",
        "abstain": (
            "No estoy seguro de eso y prefiero no adivinar. Puedo pasar su pregunta a nuestro "
            "equipo para que una persona le responda. ¿Le parece bien?"
        ),
        "off_topic": (
            "Solo puedo ayudar con preguntas sobre {business}. También puedo pasar su mensaje "
            "a nuestro equipo si desea que una persona le responda."
        ),
        "refuse": (
            "Lo siento, no puedo compartir eso. Estoy aquí para ayudarle con preguntas sobre "
            "{business}, citas o para ponerle en contacto con nuestro equipo."
        ),
        "handoff": (
            "He pedido a una persona de nuestro equipo que continúe; le responderá aquí pronto."
        ),
        "handoff_closed": (
            "He pasado su mensaje a nuestro equipo. Ahora estamos cerrados; una persona le "
            "responderá cuando abramos ({opens})."
        ),
        "noted": "Gracias, {name}. He anotado sus datos.",
        "noted_anon": "Gracias, he anotado sus datos.",
        "bad_detail": "Lo siento, {error}. ¿Puede comprobarlo?",
        "ask_contact": "¿Me podría dar {items}?",
        "your_name": "su nombre",
        "phone": "un número de teléfono para contactarle",
        "email": "su correo electrónico",
        "and": "y",
        "callback": "Por supuesto, alguien de nuestro equipo le llamará.",
        "callback_ready": "Alguien de nuestro equipo le llamará al {phone}.",
        "booked": "Su cita está reservada para {when}. ¡Hasta entonces!",
        "available": "{when} está disponible.",
        "closed_day": "Lo siento, cerramos ese día ({weekday}).",
        "unavailable": "Lo siento, {when} no está disponible ({why}).",
        "offer": "Puedo ofrecerle {slots}. ¿Cuál le conviene?",
        "offer_next": "Los próximos horarios libres son {slots}. ¿Cuál le conviene?",
        "no_slots": "No encontré horarios libres en las próximas dos semanas.",
        "ask_time": "¿Qué día y hora le vendrían bien?",
        "link": "Aquí tiene el enlace: {markdown}",
        "no_link": "Lo siento, no tengo un enlace para eso.",
        "anything_else": "¿Puedo ayudarle con algo más?",
        "partial": (
            "No encontré una respuesta para el resto de su pregunta; "
            "puedo pasarla a nuestro equipo."
        ),
        "answer_intro": "Según nuestra información:",
    },
    "fr": {
        "greeting": "Bonjour ! Comment puis-je vous aider ?",
        "thanks": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "abstain": (
            "Je ne suis pas sûr et je préfère ne pas deviner. Je peux transmettre votre question "
            "à notre équipe pour qu'une personne vous réponde. Voulez-vous ?"
        ),
        "off_topic": (
            "Je peux seulement répondre aux questions sur {business}. Je peux aussi transmettre "
            "votre message à notre équipe."
        ),
        "refuse": (
            "Désolé, je ne peux pas partager cela. Je suis là pour vous aider avec vos questions "
            "sur {business}, vos rendez-vous ou pour vous mettre en contact avec notre équipe."
        ),
        "handoff": (
            "J'ai demandé à une personne de notre équipe de prendre le relais ; "
            "elle vous répondra ici."
        ),
        "handoff_closed": (
            "J'ai transmis votre message à notre équipe. Nous sommes fermés pour le moment ; "
            "une personne vous répondra à l'ouverture ({opens})."
        ),
        "noted": "Merci, {name}. J'ai noté vos coordonnées.",
        "noted_anon": "Merci, j'ai noté vos coordonnées.",
        "bad_detail": "Désolé, {error}. Pouvez-vous vérifier ?",
        "ask_contact": "Pourriez-vous me donner {items} ?",
        "your_name": "votre nom",
        "phone": "un numéro de téléphone où vous joindre",
        "email": "votre adresse e-mail",
        "and": "et",
        "callback": "Bien sûr, une personne de notre équipe vous rappellera.",
        "callback_ready": "Une personne de notre équipe vous rappellera au {phone}.",
        "booked": "Votre rendez-vous est réservé pour {when}. À bientôt !",
        "available": "{when} est disponible.",
        "closed_day": "Désolé, nous sommes fermés ce jour-là ({weekday}).",
        "unavailable": "Désolé, {when} n'est pas disponible ({why}).",
        "offer": "Je peux vous proposer {slots}. Lequel vous convient ?",
        "offer_next": "Les prochains créneaux libres sont {slots}. Lequel vous convient ?",
        "no_slots": "Je n'ai pas trouvé de créneau libre dans les deux prochaines semaines.",
        "ask_time": "Quel jour et quelle heure vous conviendraient ?",
        "link": "Voici le lien : {markdown}",
        "no_link": "Désolé, je n'ai pas de lien pour cela.",
        "anything_else": "Puis-je vous aider pour autre chose ?",
        "partial": (
            "Je n'ai pas trouvé de réponse au reste de votre question ; "
            "je peux la transmettre à notre équipe."
        ),
        "answer_intro": "D'après nos informations :",
    },
    "de": {
        "greeting": "Guten Tag! Wie kann ich Ihnen helfen?",
        "thanks": "Gern geschehen! Kann ich Ihnen sonst noch weiterhelfen?",
        "abstain": (
            "Da bin ich mir nicht sicher, und ich möchte nicht raten. Ich kann Ihre Frage an "
            "unser Team weiterleiten, damit sich jemand bei Ihnen meldet. Möchten Sie das?"
        ),
        "off_topic": (
            "Ich kann nur Fragen zu {business} beantworten. Gern leite ich Ihre Nachricht auch "
            "an unser Team weiter, wenn sich jemand bei Ihnen melden soll."
        ),
        "refuse": (
            "Das kann ich leider nicht weitergeben. Ich helfe Ihnen gern bei Fragen zu "
            "{business}, bei Terminen oder dabei, Kontakt zu unserem Team aufzunehmen."
        ),
        "handoff": (
            "Ich habe ein Mitglied unseres Teams gebeten, das Gespräch zu übernehmen; Sie "
            "erhalten hier in Kürze eine Antwort."
        ),
        "handoff_closed": (
            "Ich habe Ihre Nachricht an unser Team weitergeleitet. Wir haben gerade geschlossen; "
            "Sie erhalten eine Antwort, sobald wir wieder geöffnet haben ({opens})."
        ),
        "noted": "Vielen Dank, {name}. Ich habe Ihre Angaben notiert.",
        "noted_anon": "Vielen Dank, ich habe Ihre Angaben notiert.",
        "bad_detail": "Entschuldigung, {error}. Könnten Sie das bitte prüfen?",
        "ask_contact": "Bitte nennen Sie mir {items}.",
        "your_name": "Ihren Namen",
        "phone": "eine Telefonnummer, unter der wir Sie am besten erreichen",
        "email": "Ihre E-Mail-Adresse",
        "and": "und",
        "callback": "Selbstverständlich ruft Sie jemand aus unserem Team zurück.",
        "callback_ready": "Jemand aus unserem Team ruft Sie unter {phone} zurück.",
        "booked": "Ihr Termin am {when} ist gebucht. Wir freuen uns auf Sie!",
        "available": "Der Termin am {when} ist frei.",
        "closed_day": "Leider haben wir am {weekday} geschlossen.",
        "unavailable": "Leider ist der Termin am {when} nicht verfügbar ({why}).",
        "offer": "Ich kann Ihnen folgende Termine anbieten: {slots}. Welcher passt Ihnen?",
        "offer_next": "Die nächsten freien Termine sind: {slots}. Welcher passt Ihnen?",
        "no_slots": "In den nächsten zwei Wochen habe ich leider keinen freien Termin gefunden.",
        "ask_time": "Welcher Tag und welche Uhrzeit würden Ihnen passen?",
        "link": "Hier ist der Link: {markdown}",
        "no_link": "Dafür habe ich leider keinen Link.",
        "anything_else": "Kann ich Ihnen sonst noch weiterhelfen?",
        "partial": (
            "Zum restlichen Teil Ihrer Frage habe ich keine Antwort gefunden; "
            "ich kann ihn an unser Team weiterleiten."
        ),
        "answer_intro": "Laut unseren Informationen:",
    },
    "pt": {
        "greeting": "Olá! Como posso ajudar?",
        "thanks": "De nada! Posso ajudar com mais alguma coisa?",
        "abstain": (
            "Não tenho certeza sobre isso e prefiro não adivinhar. Posso encaminhar a sua "
            "pergunta para a nossa equipe, para que uma pessoa entre em contato. Deseja que eu "
            "faça isso?"
        ),
        "off_topic": (
            "Só posso ajudar com perguntas sobre {business}. Também posso encaminhar a sua "
            "mensagem para a nossa equipe, se desejar que uma pessoa entre em contato."
        ),
        "refuse": (
            "Desculpe, não posso compartilhar essa informação. Estou aqui para ajudar com "
            "perguntas sobre {business}, agendamentos ou o contato com a nossa equipe."
        ),
        "handoff": (
            "Pedi a alguém da nossa equipe que assuma o atendimento; a resposta chegará aqui "
            "em breve."
        ),
        "handoff_closed": (
            "Encaminhei a sua mensagem para a nossa equipe. No momento estamos fechados; uma "
            "pessoa responderá quando abrirmos ({opens})."
        ),
        "noted": "Obrigado, {name}. Anotei os seus dados.",
        "noted_anon": "Obrigado, anotei os seus dados.",
        "bad_detail": "Desculpe, {error}. Poderia verificar?",
        "ask_contact": "Poderia me informar {items}?",
        "your_name": "o seu nome",
        "phone": "o melhor número de telefone para contato",
        "email": "o seu endereço de e-mail",
        "and": "e",
        "callback": "Claro, alguém da nossa equipe entrará em contato por telefone.",
        "callback_ready": "Alguém da nossa equipe ligará para o número {phone}.",
        "booked": "O seu horário está marcado para {when}. Até lá!",
        "available": "Temos disponibilidade para {when}.",
        "closed_day": "Desculpe, estamos fechados nesse dia ({weekday}).",
        "unavailable": "Desculpe, não temos disponibilidade para {when} ({why}).",
        "offer": "Posso oferecer os seguintes horários: {slots}. Qual prefere?",
        "offer_next": "Os próximos horários livres são: {slots}. Qual prefere?",
        "no_slots": "Não encontrei nenhum horário livre nas próximas duas semanas.",
        "ask_time": "Que dia e horário prefere?",
        "link": "Aqui está o link: {markdown}",
        "no_link": "Desculpe, não tenho um link para isso.",
        "anything_else": "Posso ajudar com mais alguma coisa?",
        "partial": (
            "Não encontrei uma resposta para o restante da sua pergunta; "
            "posso encaminhá-la para a nossa equipe."
        ),
        "answer_intro": "Segundo as nossas informações:",
    },
    "it": {
        "greeting": "Salve! Come posso aiutarla?",
        "thanks": "Prego! Posso aiutarla in qualcos'altro?",
        "abstain": (
            "Non ne sono sicuro e preferisco non tirare a indovinare. Posso inoltrare la sua "
            "domanda al nostro team, così una persona potrà risponderle. Desidera che lo faccia?"
        ),
        "off_topic": (
            "Posso aiutarla solo con domande su {business}. Posso anche inoltrare il suo "
            "messaggio al nostro team, se desidera che una persona la ricontatti."
        ),
        "refuse": (
            "Mi dispiace, non posso condividere questa informazione. Sono qui per aiutarla con "
            "domande su {business}, con le prenotazioni o per metterla in contatto con il "
            "nostro team."
        ),
        "handoff": (
            "Ho chiesto a un membro del nostro team di subentrare; le risponderà qui a breve."
        ),
        "handoff_closed": (
            "Ho inoltrato il suo messaggio al nostro team. Al momento siamo chiusi; una persona "
            "le risponderà alla riapertura ({opens})."
        ),
        "noted": "Grazie, {name}. Ho preso nota dei suoi dati.",
        "noted_anon": "Grazie, ho preso nota dei suoi dati.",
        "bad_detail": "Mi dispiace, {error}. Può verificare?",
        "ask_contact": "Potrebbe indicarmi {items}?",
        "your_name": "il suo nome",
        "phone": "un numero di telefono a cui contattarla",
        "email": "il suo indirizzo email",
        "and": "e",
        "callback": "Certamente, una persona del nostro team la richiamerà.",
        "callback_ready": "Una persona del nostro team la richiamerà al numero {phone}.",
        "booked": "Il suo appuntamento è fissato per {when}. A presto!",
        "available": "Abbiamo disponibilità per {when}.",
        "closed_day": "Mi dispiace, di {weekday} siamo chiusi.",
        "unavailable": "Mi dispiace, {when} non è disponibile ({why}).",
        "offer": "Posso proporle questi orari: {slots}. Quale preferisce?",
        "offer_next": "I prossimi orari liberi sono: {slots}. Quale preferisce?",
        "no_slots": "Non ho trovato orari liberi nelle prossime due settimane.",
        "ask_time": "Quale giorno e quale orario le andrebbero bene?",
        "link": "Ecco il link: {markdown}",
        "no_link": "Mi dispiace, non ho un link per questo.",
        "anything_else": "Posso aiutarla in qualcos'altro?",
        "partial": (
            "Non ho trovato una risposta al resto della sua domanda; "
            "posso inoltrarla al nostro team."
        ),
        "answer_intro": "Secondo le nostre informazioni:",
    },
    "nl": {
        "greeting": "Hallo! Waarmee kan ik u helpen?",
        "thanks": "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        "abstain": (
            "Daar ben ik niet zeker van, en ik wil liever niet gokken. Ik kan uw vraag "
            "doorgeven aan ons team, zodat een medewerker contact met u opneemt. Wilt u dat?"
        ),
        "off_topic": (
            "Ik kan alleen helpen met vragen over {business}. Ik kan uw bericht ook doorgeven "
            "aan ons team als u wilt dat een medewerker contact met u opneemt."
        ),
        "refuse": (
            "Het spijt me, dat kan ik niet delen. Ik help u graag met vragen over {business}, "
            "met afspraken of om in contact te komen met ons team."
        ),
        "handoff": (
            "Ik heb een medewerker van ons team gevraagd het over te nemen; u krijgt hier "
            "binnenkort een reactie."
        ),
        "handoff_closed": (
            "Ik heb uw bericht doorgegeven aan ons team. We zijn nu gesloten; een medewerker "
            "reageert zodra we weer open zijn ({opens})."
        ),
        "noted": "Dank u, {name}. Ik heb uw gegevens genoteerd.",
        "noted_anon": "Dank u, ik heb uw gegevens genoteerd.",
        "bad_detail": "Het spijt me, {error}. Wilt u dat controleren?",
        "ask_contact": "Mag ik {items}?",
        "your_name": "uw naam",
        "phone": "een telefoonnummer waarop u goed bereikbaar bent",
        "email": "uw e-mailadres",
        "and": "en",
        "callback": "Natuurlijk, een medewerker van ons team belt u terug.",
        "callback_ready": "Een medewerker van ons team belt u terug op {phone}.",
        "booked": "Uw afspraak staat gepland op {when}. Tot dan!",
        "available": "Er is nog plek op {when}.",
        "closed_day": "Helaas zijn wij op {weekday} gesloten.",
        "unavailable": "Helaas is er op {when} geen plek ({why}).",
        "offer": "Ik kan u de volgende tijden aanbieden: {slots}. Welke komt u het beste uit?",
        "offer_next": (
            "De eerstvolgende beschikbare tijden zijn: {slots}. Welke komt u het beste uit?"
        ),
        "no_slots": "Ik heb in de komende twee weken geen vrij moment gevonden.",
        "ask_time": "Welke dag en welk tijdstip komen u het beste uit?",
        "link": "Hier is de link: {markdown}",
        "no_link": "Helaas heb ik daar geen link voor.",
        "anything_else": "Kan ik u nog ergens anders mee helpen?",
        "partial": (
            "Op de rest van uw vraag heb ik geen antwoord gevonden; "
            "ik kan die aan ons team doorgeven."
        ),
        "answer_intro": "Volgens onze informatie:",
    },
}

WEEKDAYS = {
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "pt": [
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ],
    "it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
}
MONTHS = {
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "pt": [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
    "it": [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
}
# How each language writes a slot; English (and any language without a table) is below.
WHEN_FORMATS = {
    "es": "{weekday} {day} de {month} a las {time}",
    "fr": "{weekday} {day} {month} à {time}",
    "de": "{weekday}, {day}. {month} um {time}",
    "pt": "{weekday}, {day} de {month} às {time}",
    "it": "{weekday} {day} {month} alle {time}",
    "nl": "{weekday} {day} {month} om {time}",
}
# One o'clock is singular where "at" agrees with the hour: "a la 01:00", "à 01:00", "all'01:00".
_ONE_OCLOCK = {"es": ("a las ", "a la "), "pt": ("às ", "à "), "it": ("alle ", "all'")}


def say(lang: str, key: str, **values: object) -> str:
    table = PHRASES.get(lang, PHRASES["en"])
    return table.get(key, PHRASES["en"].get(key, "")).format(**values)


def weekday_name(dt: datetime, lang: str) -> str:
    if lang in WEEKDAYS:
        return WEEKDAYS[lang][dt.weekday()]
    return dt.strftime("%A")


def when_text(dt: datetime, lang: str) -> str:
    """'Tuesday, March 3 at 3:00 pm', or the visitor's language: 'Dienstag, 3. März um 15:00'."""
    if lang in WHEN_FORMATS:
        text = WHEN_FORMATS[lang].format(
            weekday=weekday_name(dt, lang),
            day=dt.day,
            month=MONTHS[lang][dt.month - 1],
            time=f"{dt:%H:%M}",
        )
        if dt.hour == 1 and lang in _ONE_OCLOCK:
            text = text.replace(*_ONE_OCLOCK[lang])
        return text
    hour = dt.hour % 12 or 12
    return f"{dt:%A}, {dt:%B} {dt.day} at {hour}:{dt:%M} {'am' if dt.hour < 12 else 'pm'}"


def join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {say(lang, 'and')} " + items[-1]
