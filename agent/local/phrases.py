"""The offline model's own sentences, in the languages it can reply in.

Only the receptionist's framing is translated; quoted knowledge stays as written.
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
            "reply when we open ({opens})."
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
        "answer_intro": "D'après nos informations :",
    },
}
WEEKDAYS = {
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
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
}


def say(lang: str, key: str, **values: object) -> str:
    table = PHRASES.get(lang, PHRASES["en"])
    return table.get(key, PHRASES["en"].get(key, "")).format(**values)


def weekday_name(dt: datetime, lang: str) -> str:
    if lang in WEEKDAYS:
        return WEEKDAYS[lang][dt.weekday()]
    return dt.strftime("%A")


def when_text(dt: datetime, lang: str) -> str:
    """'Tuesday, March 3 at 3:00 pm' (or the visitor's language)."""
    if lang in WEEKDAYS:
        day = f"{weekday_name(dt, lang)} {dt.day} {'de ' if lang == 'es' else ''}"
        day += MONTHS[lang][dt.month - 1]
        return f"{day} {'a las' if lang == 'es' else 'à'} {dt:%H:%M}"
    hour = dt.hour % 12 or 12
    return f"{dt:%A}, {dt:%B} {dt.day} at {hour}:{dt:%M} {'am' if dt.hour < 12 else 'pm'}"


def join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {say(lang, 'and')} " + items[-1]
