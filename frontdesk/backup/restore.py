"""Restoring a backup archive into the configured data directory, never losing what is there.

The archive is read in full into a folder beside the data directory first: every name
checked (nothing outside that folder, no links), the manifest checked before anything
else, the SQLite files checked and migrated. Only then are the parts swapped in, each by
a rename; a failure part-way puts back what was moved. What a ``--force`` restore
replaced is kept in a folder beside the data directory, named in the summary.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import tarfile
import zlib
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent.config import Settings
from frontdesk.backup.plan import (
    MANIFEST,
    PARTS,
    BackupError,
    Manifest,
    locations,
    member_path,
    read_manifest,
)

Echo = Callable[[str], None]
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass
class Restored:
    manifest: Manifest
    parts: list[str] = field(default_factory=list)
    previous: Path | None = None  # where the replaced data was moved (``--force``)
    notes: list[str] = field(default_factory=list)


def holding_data(settings: Settings) -> list[str]:
    """The parts already in place (a restore over them needs ``--force``)."""
    found = []
    for part, path in locations(settings).items():
        if part == "secret_key":
            continue  # every command writes one on first run; replacing it is the point
        in_use = path.is_file() and path.stat().st_size > 0
        if in_use or (path.is_dir() and any(path.iterdir())):
            found.append(part)
    return found


def restore_backup(
    settings: Settings,
    archive: Path,
    *,
    force: bool,
    known_revisions: Sequence[str],
    migrate: Callable[[Path], None],
    now: datetime,
    echo: Echo,
) -> Restored:
    """Restore ``archive`` into the data directory; BackupError (nothing changed) if not."""
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    present = holding_data(settings)
    if present and not force:
        raise BackupError(
            f"{settings.data_dir} already holds data ({', '.join(present)}). Restore into "
            "an empty data directory, or pass --force to replace it "
            "(what is replaced is kept in a folder beside it)"
        )
    data_dir = settings.data_dir
    staging = data_dir.parent / f".{data_dir.name}.restore-{secrets.token_hex(4)}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise BackupError(f"cannot write beside {data_dir} ({exc.strerror})") from None
    try:
        echo(f"Reading {archive}...")
        manifest = _extract(archive, staging, known_revisions)
        echo(
            f"Backup of {manifest.created_at} (frontdesk {manifest.frontdesk_version}, "
            f"schema {manifest.alembic_revision or 'not included'})."
        )
        restored = Restored(manifest)
        incoming = _incoming(settings, manifest, staging, restored.notes)
        for part in ("database", "agent_memory"):
            if part in incoming:
                _check_sqlite(incoming[part][0], part)
        if "database" in incoming:
            echo("Upgrading the database schema...")
            try:
                migrate(incoming["database"][0])
            except Exception as exc:  # a migration failing on the copy changes nothing
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise BackupError(
                    f"the backup's database could not be upgraded ({reason})"
                ) from exc
            _settle(incoming["database"][0])
        previous = data_dir.parent / f"{data_dir.name}.before-restore-{now:%Y%m%d-%H%M%S}"
        if previous.exists():
            previous = previous.with_name(f"{previous.name}-{secrets.token_hex(2)}")
        try:
            restored.previous = _swap(incoming, previous)
        except OSError as exc:
            raise BackupError(
                f"the restored data could not be put in place ({exc}); what was there is back"
            ) from None
        restored.parts = sorted(incoming)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return restored


def _extract(archive: Path, staging: Path, known_revisions: Sequence[str]) -> Manifest:
    """Every member into ``staging``, each checked; the manifest first, or nothing."""
    manifest = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                path = member_path(member.name, is_file=member.isfile(), is_dir=member.isdir())
                if manifest is None:
                    if str(path) != MANIFEST or not member.isfile():
                        raise BackupError("the archive does not start with a manifest: refused")
                    manifest = read_manifest(_read(tar, member), known_revisions)
                    continue
                target = staging.joinpath(*path.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    raise BackupError(f"the archive's {member.name!r} cannot be read")
                try:
                    with source, target.open("xb") as out:
                        shutil.copyfileobj(source, out)
                except FileExistsError:
                    raise BackupError(f"the archive holds {member.name!r} twice: refused") from None
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"the archive is damaged or not a frontdesk backup ({exc})") from None
    except OSError as exc:  # a bad gzip stream, or the disk: say which
        raise BackupError(f"the archive could not be restored ({exc})") from None
    if manifest is None:
        raise BackupError("the archive is empty: it is not a frontdesk backup")
    return manifest


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if member.size > 1_000_000:
        raise BackupError("the archive's manifest is far too large: refused")
    handle = tar.extractfile(member)
    assert handle is not None
    with handle:
        return handle.read()


def _incoming(
    settings: Settings, manifest: Manifest, staging: Path, notes: list[str]
) -> dict[str, tuple[Path, Path]]:
    """part -> (its restored copy, where it goes), for the parts this install keeps here."""
    where = locations(settings)
    incoming = {}
    for part in manifest.included:
        copy = staging / PARTS[part].rstrip("/")
        if not copy.exists():
            if PARTS[part].endswith("/"):
                copy.mkdir(parents=True)  # an empty folder in the backup
            else:
                raise BackupError(f"the archive lacks its {part} (the manifest lists it)")
        if part not in where:
            notes.append(_not_here(part, settings))
            continue
        incoming[part] = (copy, where[part])
    for part, why in manifest.left_out.items():
        notes.append(f"Not in this backup: {part} ({why}).")
    if "database" in manifest.included and "database" not in where:
        notes.append("This install uses a database server: the backup's SQLite copy was ignored.")
    return incoming


def _not_here(part: str, settings: Settings) -> str:
    if part == "chroma":
        return (
            f"CHROMA_URL is set ({settings.chroma_url}): the backup's knowledge index was not "
            "restored; restore that server's volume, or re-run ingestion"
        )
    return f"{part} is kept elsewhere on this install: not restored"


def _check_sqlite(path: Path, part: str) -> None:
    try:
        with closing(sqlite3.connect(path)) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(
            f"the backup's {part} is not a readable SQLite database ({exc})"
        ) from None
    if not verdict or verdict[0] != "ok":
        raise BackupError(f"the backup's {part} is damaged ({verdict[0] if verdict else '?'})")


def _settle(path: Path) -> None:
    """Fold the write-ahead log into the file itself: only the file is moved into place."""
    with closing(sqlite3.connect(path)) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    wal = path.with_name(path.name + "-wal")
    if busy or (wal.exists() and wal.stat().st_size):
        raise BackupError("the restored database is still in use after its upgrade")


def _swap(incoming: dict[str, tuple[Path, Path]], previous: Path) -> Path | None:
    """Move each restored part into place, the old one aside; undo it all on any failure."""
    moved_aside: list[tuple[Path, Path]] = []  # (where it was, where it is now)
    placed: list[Path] = []
    try:
        for part, (copy, target) in sorted(incoming.items()):
            target.parent.mkdir(parents=True, exist_ok=True)
            olds = [target] + [target.with_name(target.name + s) for s in _SQLITE_SIDE_FILES]
            for old in olds:
                if old.exists() or old.is_symlink():
                    previous.mkdir(exist_ok=True)
                    aside = previous / f"{part}{old.name[len(target.name) :]}"
                    shutil.move(old, aside)
                    moved_aside.append((old, aside))
            _place(copy, target)
            placed.append(target)
            if part == "secret_key":
                os.chmod(target, 0o600)
    except BaseException:
        for target in placed:
            _remove(target)
        for was, now in reversed(moved_aside):
            shutil.move(now, was)
        if previous.is_dir() and not any(previous.iterdir()):
            previous.rmdir()
        raise
    return previous if moved_aside else None


def _place(copy: Path, target: Path) -> None:
    """A rename when on the same file system; otherwise a copy beside it, then a rename."""
    try:
        os.replace(copy, target)
    except OSError:
        beside = target.with_name(f".{target.name}.restoring")
        _remove(beside)
        if copy.is_dir():
            shutil.copytree(copy, beside)
        else:
            shutil.copy2(copy, beside)
        os.replace(beside, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
