"""Email through SMTP, configured by FRONTDESK_SMTP_URL: the notifier's transport, and the
one SMTP client session every sender opens (``smtp_session``).

``smtp://user:password@host:587`` uses STARTTLS when the server offers it;
``smtps://…:465`` is TLS from the start; no user means no login. The notifier and the
email channel's sender (``channels.email.smtp_send``) read the URL and open the
connection here, so the two never drift apart.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from agent.core.errors import ValidationError


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps); otherwise STARTTLS when offered
    user: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpUrl:
        """Read ``smtp://`` / ``smtps://`` URLs; errors never show the password."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationError("FRONTDESK_SMTP_URL", f"{redact(url)!r} is not smtp://host:port")
        tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if tls else 25)
        except ValueError as error:
            raise ValidationError("FRONTDESK_SMTP_URL", f"bad port in {redact(url)!r}") from error
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


def redact(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@contextmanager
def smtp_session(
    target: SmtpUrl,
    *,
    timeout: float,
    local_hostname: str | None = None,
    context: ssl.SSLContext | None = None,
) -> Iterator[smtplib.SMTP]:
    """A connected, greeted, encrypted (when offered) and logged-in client, closed after."""
    context = context or ssl.create_default_context()
    client: smtplib.SMTP
    if target.tls:
        client = smtplib.SMTP_SSL(
            target.host,
            target.port,
            local_hostname=local_hostname,
            timeout=timeout,
            context=context,
        )
    else:
        client = smtplib.SMTP(
            target.host, target.port, local_hostname=local_hostname, timeout=timeout
        )
    with client:
        client.ehlo()
        if not target.tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if target.user:
            client.login(target.user, target.password)
        yield client


class SmtpSender:
    """The notifier's sender: plain text notifications to the team."""

    def __init__(self, url: str, sender: str, *, timeout: float = 15) -> None:
        self._target = SmtpUrl.parse(url)
        self._sender = sender
        self._timeout = timeout

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        with smtp_session(self._target, timeout=self._timeout) as client:
            client.send_message(message)
