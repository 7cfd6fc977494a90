"""The Twilio REST client, pointed at ``FRONTDESK_TWILIO_API_URL`` when set (tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

DEFAULT_API_URL = "https://api.twilio.com"


def client(credentials: Mapping[str, Any], api_url: str = "") -> Client:
    """A REST client for the account (a short timeout: a job or a call is waiting)."""
    found = Client(
        str(credentials.get("account_sid") or ""),
        str(credentials.get("auth_token") or ""),
        http_client=TwilioHttpClient(timeout=10),
    )
    found.api.base_url = (api_url or DEFAULT_API_URL).rstrip("/")
    return found
