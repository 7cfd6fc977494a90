"""Writing a backup archive while frontdesk may be running.

SQLite files (the database, the agent's checkpoints, Chroma's own catalogue) are copied
with SQLite's online backup API: a consistent snapshot even while a writer commits, which
a plain file copy of a live database is not. The archive is written under a temporary
name and renamed when complete, so a failed backup never leaves a half archive behind.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

from agent.config import Settings
from frontdesk.backup.plan import (
    MANIFEST,
    PARTS,
    BackupError,
    Install,
    Manifest,
    locations,
    plan,
)

Echo = Callable[[str], None]
_SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")
_SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".part", ".sock")


def install_of(settings: Settings) -> Install:
    key_file = settings.data_dir / "secret_key"
    in_file = key_file.is_file() and key_file.read_text().strip() == settings.secret_key
    return Install(settings.sqlalchemy_url, settings.chroma_url, key_in_data_dir=in_file)


def default_name(now: datetime) -> str:
    return f"frontdesk-backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(
    settings: Settings,
    out: Path,
    *,
    now: datetime,
    version: str,
    revision: Callable[[Path | None], str | None],
    echo: Echo,
) -> tuple[Path, Manifest]:
    """Write the archive to ``out`` (a folder: a dated name inside it); its path and manifest.

    ``revision`` reads the schema revision of the database copy (None: no copy, PostgreSQL).
    """
    if out.is_dir():
        out = out / default_name(now)
    if out.exists():
        raise BackupError(f"{out} already exists: choose another name (nothing was written)")
    if not out.parent.is_dir():
        raise BackupError(f"the folder {out.parent} does not exist (nothing was written)")
    included, left_out = plan(install_of(settings))
    where = locations(settings)
    partial = out.with_name(f".{out.name}.part")
    with tempfile.TemporaryDirectory(prefix=".frontdesk-backup-", dir=out.parent) as work:
        snapshots = Path(work)
        copies: dict[str, Path] = {}
        for part in ("database", "agent_memory"):
            source = where.get(part)
            if part in included and source is not None and source.is_file():
                echo(f"Copying the {'database' if part == 'database' else 'AI memory'}...")
                copies[part] = snapshot(source, snapshots / part)
        if "database" in included and "database" not in copies:
            raise BackupError(f"there is no database at {where['database']} to back up")
        for part in ("database", "agent_memory"):
            if part in included and part not in copies:
                included.remove(part)
        manifest = Manifest(
            created_at=now.isoformat(),
            frontdesk_version=version,
            alembic_revision=revision(copies.get("database")),
            database=install_of(settings).backend,
            included=included,
            left_out=left_out,
        )
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, manifest.to_json(), now)
                for part in included:
                    name = PARTS[part]
                    if part in copies:
                        tar.add(copies[part], arcname=name, recursive=False)
                    elif name.endswith("/"):
                        count = _add_folder(tar, where[part], name.rstrip("/"), snapshots)
                        echo(f"Added {part}: {count} file{'s' if count != 1 else ''}.")
                    elif where[part].is_file():
                        tar.add(where[part], arcname=name, recursive=False)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return out, manifest


def snapshot(source: Path, target: Path) -> Path:
    """A consistent copy of a live SQLite database (the online backup API)."""
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(target)) as copy,
        ):
            src.backup(copy)
    except sqlite3.Error as exc:
        raise BackupError(f"could not copy the SQLite database {source}: {exc}") from None
    return target


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
    tar.addfile(info, io.BytesIO(data))


def _add_folder(tar: tarfile.TarFile, folder: Path, name: str, work: Path) -> int:
    """Every plain file under ``folder`` (SQLite files by snapshot); links are left out."""
    if not folder.is_dir():
        return 0
    tar.add(folder, arcname=name, recursive=False)
    count = 0
    for path in _walk(folder):
        arcname = f"{name}/{path.relative_to(folder).as_posix()}"
        if path.is_dir():
            tar.add(path, arcname=arcname, recursive=False)
            continue
        if path.suffix in _SQLITE_SUFFIXES and _is_sqlite(path):
            copy = work / f"snapshot-{count}"
            tar.add(snapshot(path, copy), arcname=arcname, recursive=False)
            copy.unlink()
        else:
            tar.add(path, arcname=arcname, recursive=False)
        count += 1
    return count


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        dirs[:] = sorted(d for d in dirs if not (base / d).is_symlink())
        for d in dirs:
            yield base / d
        for f in sorted(files):
            path = base / f
            if path.is_symlink() or not path.is_file() or f.endswith(_SKIPPED_SUFFIXES):
                continue
            yield path


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"
