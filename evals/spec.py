"""The eval suite as frozen dataclasses (evals/FORMAT.md): what ``load_suite`` returns.

Also the format's fixed vocabularies (channels, contact keys, detectable languages),
which the readers check against and the scorers rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

CHANNELS = ("webchat", "email", "messenger", "instagram", "whatsapp", "sms", "phone")
CONTACT_KEYS = ("first_name", "last_name", "email", "phone", "address")
# Languages an ``expect.language`` may name: the scorer's detector knows exactly these.
LANGUAGES = (
    *("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "uk"),
    *("tr", "ar", "fa", "hi", "pa", "zh", "ja", "ko", "vi", "tl"),
)


@dataclass(frozen=True)
class SiteSource:
    path: Path  # folder, served over HTTP and crawled from /index.html


@dataclass(frozen=True)
class FileSource:
    path: Path


@dataclass(frozen=True)
class TextSource:
    title: str
    body: str


@dataclass(frozen=True)
class QASource:
    q: str
    a: str


KnowledgeSpec = SiteSource | FileSource | TextSource | QASource


@dataclass(frozen=True)
class WorkspaceSpec:
    name: str
    timezone: str = "UTC"
    country: str = "US"
    hours: dict[str, str | list[str]] = field(default_factory=dict)  # {}: none given
    appointment_minutes: int = 60
    links: dict[str, str] = field(default_factory=dict)
    instructions: str = ""
    knowledge: list[KnowledgeSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Expect:
    any: list[str] | None = None
    all: list[str] | None = None
    none: list[str] | None = None
    tools: list[str] | None = None
    no_tools: list[str] | None = None
    sources: list[str] | None = None
    language: str | None = None
    mode: Literal["ai", "human"] | None = None
    silent: bool | None = None
    abstain: bool | None = None


@dataclass(frozen=True)
class UserTurn:
    text: str
    expect: Expect | None = None
    line: int = 0


@dataclass(frozen=True)
class StaffTurn:
    text: str
    line: int = 0


@dataclass(frozen=True)
class ReleaseTurn:
    line: int = 0


Turn = UserTurn | StaffTurn | ReleaseTurn


@dataclass(frozen=True)
class AppointmentSpec:
    start: datetime  # naive, workspace-local


@dataclass(frozen=True)
class Final:
    contact: dict[str, str] | None = None  # phone as E.164; only the keys given are checked
    appointments: list[AppointmentSpec] | None = None  # exactly these, when given
    lead_notifications: int | None = None


@dataclass(frozen=True)
class Case:
    id: str
    tags: list[str]
    channel: str
    turns: list[Turn]
    final: Final | None
    line: int


@dataclass(frozen=True)
class Suite:
    name: str
    now: datetime  # naive, in workspace.timezone
    workspace: WorkspaceSpec
    cases: list[Case]
    path: Path

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)

    @property
    def now_aware(self) -> datetime:
        return self.now.replace(tzinfo=self.tz)
