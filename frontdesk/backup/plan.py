"""What a backup holds, its manifest, and the checks an archive must pass: no I/O here.

An archive is a gzipped tar with ``manifest.json`` first, then the parts below (each
optional: a part kept elsewhere is named in the manifest's ``left_out`` with why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from agent.config import Settings

FORMAT = "frontdesk backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# part -> its name in the archive (a file, or a folder when it ends with "/")
PARTS = {
    "database": "database/frontdesk.db",
    "agent_memory": "database/checkpoints.sqlite",
    "chroma": "chroma/",
    "uploads": "uploads/",
    "attachments": "attachments/",
    "secret_key": "secret_key",
}
_FOLDERS = {name.rstrip("/") for name in PARTS.values() if name.endswith("/")}
_FILES = {name for name in PARTS.values() if not name.endswith("/")}


class BackupError(Exception):
    """A backup could not be made or restored; the message says why, in plain words."""


@dataclass(frozen=True)
class Install:
    """The facts about an install that decide what its backup can hold."""

    database_url: str  # the SQLAlchemy URL
    chroma_url: str = ""  # a Chroma server: its files are not ours to copy
    key_in_data_dir: bool = True  # False: FRONTDESK_SECRET_KEY (or the config file) holds it

    @property
    def backend(self) -> str:
        return make_url(self.database_url).get_backend_name()


@dataclass(frozen=True)
class Manifest:
    created_at: str
    frontdesk_version: str
    alembic_revision: str | None
    database: str  # sqlite | postgresql
    included: list[str]
    left_out: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode("utf-8") + b"\n"


def plan(install: Install) -> tuple[list[str], dict[str, str]]:
    """The parts this install's backup holds, and the ones left out with what to do instead."""
    included, left_out = [], {}
    if install.backend == "sqlite":
        included += ["database", "agent_memory"]
    else:
        left_out["database"] = (
            f"{install.backend} database: back it up with its own tools, e.g. "
            + pg_dump_command(install.database_url)
        )
    if install.chroma_url:
        left_out["chroma"] = (
            f"the knowledge index lives on the Chroma server at {install.chroma_url}: "
            "back up that server's data volume"
        )
    else:
        included.append("chroma")
    included += ["uploads", "attachments"]
    if install.key_in_data_dir:
        included.append("secret_key")
    else:
        left_out["secret_key"] = (
            "the secret key comes from FRONTDESK_SECRET_KEY (or the config file): keep it "
            "safe with this backup, the sealed channel credentials need it"
        )
    return included, left_out


def pg_dump_command(database_url: str, out: str = "frontdesk.pgdump") -> str:
    """The pg_dump line for this database (password left out: pass it in PGPASSWORD)."""
    url = _libpq_url(database_url)
    return f'pg_dump --format=custom --file={out} "{url}"'


def pg_restore_command(database_url: str, dump: str = "frontdesk.pgdump") -> str:
    url = _libpq_url(database_url)
    return f'pg_restore --clean --if-exists --no-owner --dbname="{url}" {dump}'


def _libpq_url(database_url: str) -> str:
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "postgresql://USER@HOST:5432/DATABASE"
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=False)


def read_manifest(raw: bytes, known_revisions: Sequence[str]) -> Manifest:
    """The archive's manifest, if this code can restore it; otherwise BackupError saying why."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError("the archive's manifest is not valid JSON: it is damaged") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("this is not a frontdesk backup (its manifest says otherwise)")
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BackupError("the archive's manifest has no valid format version: it is damaged")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"this backup was made by a newer frontdesk (backup format {version}; this one "
            f"reads up to {FORMAT_VERSION}): upgrade frontdesk, then restore"
        )
    revision = data.get("alembic_revision")
    if revision is not None and revision not in known_revisions:
        newest = known_revisions[-1] if known_revisions else "none"
        raise BackupError(
            f"this backup's database schema (revision {revision}) is newer than this frontdesk "
            f"knows (newest: {newest}): upgrade frontdesk, then restore"
        )
    try:
        manifest = Manifest(
            created_at=str(data["created_at"]),
            frontdesk_version=str(data["frontdesk_version"]),
            alembic_revision=revision,
            database=str(data["database"]),
            included=[str(part) for part in data["included"]],
            left_out={str(k): str(v) for k, v in dict(data.get("left_out") or {}).items()},
            format_version=version,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"the archive's manifest lacks {exc}: it is damaged") from None
    unknown = sorted(set(manifest.included) - set(PARTS))
    if unknown:
        raise BackupError(f"the archive holds parts this frontdesk does not know: {unknown}")
    return manifest


def member_path(name: str, *, is_file: bool, is_dir: bool) -> PurePosixPath:
    """The archive member's safe relative path; BackupError for anything that could write
    outside the restore folder or is not a plain file or folder (links, devices)."""
    if not (is_file or is_dir):
        raise BackupError(f"the archive holds {name!r}, which is a link or a special file: refused")
    if "\\" in name or "\x00" in name:
        raise BackupError(f"the archive holds an odd name {name!r}: refused")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise BackupError(f"the archive holds an absolute path {name!r}: refused")
    if any(part == ".." for part in path.parts):
        raise BackupError(f"the archive holds a path going up a folder {name!r}: refused")
    path = PurePosixPath(*[p for p in path.parts if p != "."])
    if not path.parts:
        if is_dir:
            return path
        raise BackupError(f"the archive holds an empty name {name!r}: refused")
    text = str(path)
    if is_file and (text == MANIFEST or text in _FILES):
        return path
    if path.parts[0] in _FOLDERS and (is_dir or len(path.parts) > 1):
        return path
    if is_dir and text == "database":
        return path
    raise BackupError(f"the archive holds {name!r}, which no frontdesk backup has: refused")


def locations(settings: Settings) -> dict[str, Path]:
    """Where each part lives on this install (parts kept elsewhere are absent)."""
    found = {
        "uploads": settings.uploads_path,
        "attachments": settings.attachments_path,
        "secret_key": settings.data_dir / "secret_key",  # see Settings.ensure_data_dir
    }
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        found["database"] = Path(url.database)
        # the agent's checkpoints (agent.storage.checkpoints) beside an SQLite database
        found["agent_memory"] = settings.data_dir / "checkpoints.sqlite"
    if not settings.chroma_url:
        found["chroma"] = settings.chroma_path
    return found
