"""Settings: read once (environment over an optional TOML file over defaults), then passed in.

With nothing set, everything lives in one data directory: the SQLite database, Chroma
files, uploads, the embedded Redis socket and a secret key generated on first run.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from agent.core.errors import ValidationError

# setting name -> environment variable
_ENV = {
    "data_dir": "FRONTDESK_DATA_DIR",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "chroma_url": "CHROMA_URL",
    "model": "FRONTDESK_MODEL",
    "secret_key": "FRONTDESK_SECRET_KEY",
    "host": "FRONTDESK_HOST",
    "port": "FRONTDESK_PORT",
    "public_url": "FRONTDESK_PUBLIC_URL",
    "workers": "FRONTDESK_WORKERS",
    "web_processes": "FRONTDESK_WEB_PROCESSES",
    "max_message_chars": "FRONTDESK_MAX_MESSAGE_CHARS",
    "max_upload_mb": "FRONTDESK_MAX_UPLOAD_MB",
    "allow_private_urls": "FRONTDESK_ALLOW_PRIVATE_URLS",
    "trusted_proxies": "FRONTDESK_TRUSTED_PROXIES",
    "log_level": "FRONTDESK_LOG_LEVEL",
    "smtp_url": "FRONTDESK_SMTP_URL",
    "mail_from": "FRONTDESK_MAIL_FROM",
    "email_domain": "FRONTDESK_EMAIL_DOMAIN",
    "inbound_smtp_port": "FRONTDESK_INBOUND_SMTP_PORT",
    "inbound_smtp_host": "FRONTDESK_INBOUND_SMTP_HOST",
    "meta_graph_url": "FRONTDESK_META_GRAPH_URL",
    "twilio_api_url": "FRONTDESK_TWILIO_API_URL",
    "metrics_token": "FRONTDESK_METRICS_TOKEN",
    "sweep_seconds": "FRONTDESK_SWEEP_SECONDS",
}


# whole-number settings with bounds: name -> (lowest, highest)
_RANGES = {
    "trusted_proxies": (0, 10),
    "inbound_smtp_port": (0, 65535),
    "sweep_seconds": (1, 3600),
    "web_processes": (1, 32),
}


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "frontdesk"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str = ""  # empty: embedded Redis on a unix socket in data_dir
    chroma_url: str = ""  # empty: Chroma PersistentClient in data_dir
    model: str = "local"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how browsers reach us, for links in emails and the widget snippet
    workers: int = 1
    # Web server processes sharing the port (gunicorn workers). More than one means
    # Socket.IO over WebSocket only: a long-polling client's next request could reach a
    # process that does not hold its session.
    web_processes: int = 1
    max_message_chars: int = 10_000
    max_upload_mb: int = 100
    allow_private_urls: bool = False  # only tests crawling 127.0.0.1 turn this on
    # Reverse proxies in front of frontdesk whose X-Forwarded-For/-Proto/-Host are believed
    # (0: none, the connection's address is the client's). Never more than really exist.
    trusted_proxies: int = 0
    log_level: str = "INFO"
    smtp_url: str = ""  # empty: notifications are logged in the inbox but not emailed
    mail_from: str = "frontdesk@localhost"
    # The email channel: each workspace's inbound address is <name-token>@email_domain;
    # `up` receives that mail by SMTP on inbound_smtp_host:inbound_smtp_port (0: off).
    email_domain: str = ""
    inbound_smtp_port: int = 0
    inbound_smtp_host: str = "127.0.0.1"
    # Messenger and Instagram: the Graph API's base URL (tests and proxies override it).
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    # SMS and calls: Twilio's REST API base URL (tests point it at a local server).
    twilio_api_url: str = "https://api.twilio.com"
    # /metrics answers only requests carrying "Authorization: Bearer <this>" (empty: off).
    metrics_token: str = ""
    # How often the workers sweep for turns a dead worker or a lost queue left unanswered.
    # It also sets how fast a killed worker's turn lock frees up (twice this) and how old an
    # unanswered message must be before it is dispatched again (three times this).
    sweep_seconds: int = 15

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None
    ) -> Settings:
        """Build settings from the environment and ``FRONTDESK_CONFIG`` (a TOML file)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config_file or (
            Path(environ["FRONTDESK_CONFIG"]) if environ.get("FRONTDESK_CONFIG") else None
        )
        if path is not None:
            values.update(_read_toml(path))
        for name, var in _ENV.items():
            if environ.get(var, "") != "":
                values[name] = environ[var]
        return cls.from_values(values)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValidationError(unknown[0], "is not a frontdesk setting")
        typed: dict[str, Any] = {}
        for name, value in values.items():
            kind = known[name].type
            typed[name] = _coerce(name, value, kind)
        for name, (low, high) in _RANGES.items():
            if name in typed and not low <= typed[name] <= high:
                raise ValidationError(name, f"{typed[name]!r} is not between {low} and {high}")
        typed.setdefault("data_dir", default_data_dir())
        typed["data_dir"] = Path(typed["data_dir"]).expanduser().resolve()
        return cls(**typed)

    # -- derived locations -----------------------------------------------------

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Plain postgres URLs mean psycopg 3, the driver we ship.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{self.data_dir / 'frontdesk.db'}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uploads_path(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def attachments_path(self) -> Path:
        """Files customers sent with their messages (email attachments)."""
        return self.data_dir / "attachments"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    def ensure_data_dir(self) -> Settings:
        """Create the data directory and, on first run, persist a random secret key."""
        for path in (self.data_dir, self.uploads_path):
            path.mkdir(parents=True, exist_ok=True)
        if self.secret_key:
            return self
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return replace(self, secret_key=key_file.read_text().strip())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValidationError("FRONTDESK_CONFIG", f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("FRONTDESK_CONFIG", f"{path} is not valid TOML: {exc}") from None
    return data.get("frontdesk", data)


def _coerce(name: str, value: Any, kind: Any) -> Any:
    kind = str(kind)
    try:
        if kind == "int":
            return int(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return lowered in ("1", "true", "yes", "on")
    except (TypeError, ValueError):
        raise ValidationError(name, f"{value!r} is not a valid {kind}") from None
    return value if kind == "Path" else str(value)
