"""`frontdesk backup` and `frontdesk restore`, run as an operator would, on real files.

A real process writes to the SQLite database while the backup is taken; archives are
damaged and made hostile by hand; restores go into fresh data directories and are read
back through the real container (database, uploads, secret key, Chroma search).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.storage import migrate
from agent.storage.database import make_engine
from frontdesk.backup.archive import create_backup
from frontdesk.backup.plan import (
    BackupError,
    Install,
    member_path,
    pg_dump_command,
    plan,
    read_manifest,
)
from frontdesk.backup.restore import restore_backup
from frontdesk.cli import main
from frontdesk.cli.ops import known_revisions, revision_of, upgrade_sqlite
from frontdesk.wiring import build
from ingestion.jobs import DeferredIngestQueue
from ingestion.uploads import add_upload
from tests.conftest import RecordingDispatcher, make_workspace

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
PARKING = b"# Parking\n\nFree parking behind the clinic, entrance on Harbour Lane.\n"


@pytest.fixture
def cli(monkeypatch):
    """Runs `frontdesk` in-process against a data directory (SQLite unless given a URL)."""
    for var in ("DATABASE_URL", "REDIS_URL", "CHROMA_URL", "FRONTDESK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("FRONTDESK_SECRET_KEY", raising=False)
    runner = CliRunner()

    def invoke(data_dir: Path, *args: str, database_url: str = ""):
        env = {"FRONTDESK_DATA_DIR": str(data_dir)}
        if database_url:
            env["DATABASE_URL"] = database_url
        return runner.invoke(main, list(args), env=env)

    return invoke


def install(path: Path, template: Path, clock, database_url: str = ""):
    """A data directory as `frontdesk init` leaves it (SQLite in it unless a URL is given)."""
    path.mkdir(parents=True)
    values: dict[str, object] = {"data_dir": path}
    if database_url:
        values["database_url"] = database_url
    else:
        shutil.copyfile(template, path / "frontdesk.db")
    settings = Settings.from_values(values).ensure_data_dir()
    return build(
        settings,
        clock=clock,
        ingest_queue_override=DeferredIngestQueue(),
        dispatcher_override=RecordingDispatcher(),
    )


def fill(container):
    """A workspace with a contact and conversation, an uploaded file in the knowledge index,
    and an attachment; returns what to look for after a restore."""
    workspace, _ = make_workspace(container)
    received = container.conversations.receive(
        workspace.id,
        Inbound(
            channel="webchat",
            body="Where can I park?",
            thread_id="v1",
            sender=ContactDetails(email="jane@example.com"),
        ),
    )
    source = add_upload(
        container.knowledge,
        container.settings.uploads_path,
        workspace.id,
        io.BytesIO(PARKING),
        "parking.md",
        max_bytes=1_000_000,
    )
    container.ingestor.run(workspace.id, source.id)
    stored = container.attachments.save(workspace.id, "x-ray.png", b"\x89PNG scan")
    return workspace.id, received.conversation.id, source, stored


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot_of(data_dir: Path) -> dict[str, str]:
    """Every file under the data directory and its hash: 'nothing changed' made checkable."""
    return {
        str(p.relative_to(data_dir)): digest(p)
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def test_round_trip_into_a_fresh_data_dir_brings_everything_back(
    tmp_path, sqlite_template, clock, cli
):
    source_dir = tmp_path / "data"
    container = install(source_dir, sqlite_template, clock)
    workspace_id, conversation_id, upload, stored = fill(container)
    assert container.index.search(workspace_id, "where can I park", 1)
    container.engine.dispose()
    (tmp_path / "backups").mkdir()

    made = cli(source_dir, "backup", str(tmp_path / "backups"))
    assert made.exit_code == 0, made.output
    assert "Copying the database..." in made.output
    assert "Included: database, chroma, uploads, attachments, secret_key." in made.output
    [archive] = (tmp_path / "backups").iterdir()
    assert archive.name.startswith("frontdesk-backup-") and archive.suffixes == [".tar", ".gz"]
    assert archive.stat().st_mode & 0o077 == 0  # it holds the secret key
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == "manifest.json"
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["alembic_revision"] == known_revisions()[-1]
    assert manifest["database"] == "sqlite" and manifest["format_version"] == 1

    fresh = tmp_path / "elsewhere" / "data"
    restored = cli(fresh, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"Restored into {fresh}" in restored.output

    assert (fresh / "secret_key").read_text() == (source_dir / "secret_key").read_text()
    assert (fresh / "secret_key").stat().st_mode & 0o077 == 0
    back = build(Settings.from_values({"data_dir": fresh}).ensure_data_dir(), clock=clock)
    try:
        assert back.settings.secret_key == container.settings.secret_key
        with back.uow() as uow:
            scope = uow.workspace(workspace_id)
            contact = scope.contacts.find(email="jane@example.com")
            messages = scope.messages.for_conversation(conversation_id)
            assert scope.knowledge.get(upload.id).status == "ready"
        assert contact is not None
        assert "Where can I park?" in [m.body for m in messages]
        uploaded = next((fresh / "uploads" / str(workspace_id)).iterdir())
        assert uploaded.read_bytes() == PARKING
        assert back.attachments.path(workspace_id, stored).read_bytes() == b"\x89PNG scan"
        top = back.index.search(workspace_id, "where can I park", 1)[0]
        assert "Harbour Lane" in top.text
    finally:
        back.engine.dispose()


WRITER = textwrap.dedent(
    """
    import sqlite3, sys, time
    db, stop = sys.argv[1], sys.argv[2]
    connection = sqlite3.connect(db, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    batch = 0
    while True:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO contact (workspace_id, first_name, last_name, email, phone, address,"
            " source_channel) VALUES (1, 'w', ?, '', '', ?, 'webchat')",
            [(f"batch-{batch}", "x" * 400) for _ in range(20)],
        )
        connection.execute("COMMIT")
        batch += 1
        print(batch, flush=True)
        import os
        if os.path.exists(stop):
            break
    """
)


def batches(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT last_name, count(*) FROM contact WHERE first_name = 'w' GROUP BY last_name"
        ).fetchall()
    return dict(rows)


def test_a_backup_taken_while_a_process_writes_is_consistent(tmp_path, sqlite_template, clock):
    data = tmp_path / "data"
    container = install(data, sqlite_template, clock)
    make_workspace(container)
    container.engine.dispose()
    database = data / "frontdesk.db"
    with sqlite3.connect(database) as connection:  # some bulk, so the copy takes a while
        connection.executemany(
            "INSERT INTO contact (workspace_id, first_name, last_name, email, phone, address,"
            " source_channel) VALUES (1, 'bulk', '', '', '', ?, 'webchat')",
            [("y" * 450,) for _ in range(20_000)],
        )
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(database), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(5):
            writer.stdout.readline()  # the writer is committing
        before = len(batches(database))
        lines: list[str] = []
        out, manifest = create_backup(
            container.settings,
            tmp_path / "live.tar.gz",
            now=NOW,
            version="test",
            revision=lambda copy: revision_of(container.settings, copy),
            echo=lines.append,
        )
        during = len(batches(database))
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert during > before  # the writer kept writing while the copy was taken
    assert "database" in manifest.included

    fresh = tmp_path / "fresh"
    restore_backup(
        Settings.from_values({"data_dir": fresh}),
        out,
        force=False,
        known_revisions=known_revisions(),
        migrate=upgrade_sqlite,
        now=NOW,
        echo=lines.append,
    )
    copied = batches(fresh / "frontdesk.db")
    assert len(copied) >= before
    assert set(copied.values()) == {20}  # whole transactions only, never half of one
    with sqlite3.connect(fresh / "frontdesk.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.fixture
def existing(tmp_path, sqlite_template, clock, cli):
    """A data directory in use, and a good backup of it."""
    data = tmp_path / "data"
    container = install(data, sqlite_template, clock)
    fill(container)
    container.engine.dispose()
    made = cli(data, "backup", str(tmp_path / "good.tar.gz"))
    assert made.exit_code == 0, made.output
    return data, tmp_path / "good.tar.gz"


def assert_untouched(data: Path, before: dict[str, str]) -> None:
    assert snapshot_of(data) == before
    leftovers = [p.name for p in data.parent.iterdir() if ".restore-" in p.name]
    assert leftovers == []
    assert not [p for p in data.parent.iterdir() if "before-restore" in p.name]


def test_a_data_dir_in_use_needs_force(existing, cli):
    data, archive = existing
    before = snapshot_of(data)
    refused = cli(data, "restore", str(archive))
    assert refused.exit_code == 1
    assert "already holds data (" in refused.output and "--force" in refused.output
    assert_untouched(data, before)

    forced = cli(data, "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    [previous] = [p for p in data.parent.iterdir() if "before-restore" in p.name]
    assert f"The data it replaced is in {previous}" in forced.output
    assert digest(previous / "database") == before["frontdesk.db"]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not gzip"])
def test_a_damaged_archive_is_refused_and_the_data_stays(existing, cli, damage):
    data, archive = existing
    raw = archive.read_bytes()
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "flipped":
        middle = len(raw) // 2
        raw = raw[:middle] + bytes(b ^ 0xFF for b in raw[middle : middle + 64]) + raw[middle + 64 :]
    else:
        raw = b"PK\x03\x04 this is a zip file, not a backup"
    bad = archive.with_name("bad.tar.gz")
    bad.write_bytes(raw)
    before = snapshot_of(data)

    refused = cli(data, "restore", "--force", str(bad))

    assert refused.exit_code == 1
    assert "Nothing was changed." in refused.output
    assert "damaged" in refused.output or "could not be restored" in refused.output
    assert "Traceback" not in refused.output
    assert_untouched(data, before)


def archive_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], manifest=None) -> Path:
    manifest = manifest or {
        "format": "frontdesk backup",
        "format_version": 1,
        "created_at": NOW.isoformat(),
        "frontdesk_version": "0.1.0",
        "alembic_revision": known_revisions()[-1],
        "database": "sqlite",
        "included": ["uploads"],
        "left_out": {},
    }
    with tarfile.open(path, "w:gz") as tar:
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


HOSTILE = {
    "going up": ([(member("uploads/../../evil.txt"), b"owned")], "going up a folder"),
    "absolute": ([(member("/tmp/frontdesk-evil.txt"), b"owned")], "absolute path"),
    "symlink": (
        [(member("uploads/1/passwd", tarfile.SYMTYPE, "/etc/passwd"), b"")],
        "link or a special file",
    ),
    "hard link": (
        [(member("uploads/1/key", tarfile.LNKTYPE, "secret_key"), b"")],
        "link or a special file",
    ),
    "device": ([(member("uploads/null", tarfile.CHRTYPE), b"")], "link or a special file"),
    "stranger": ([(member("evil.sh"), b"rm -rf /")], "which no frontdesk backup has"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_archive_is_refused_and_the_data_stays(existing, cli, tmp_path, kind):
    data, _ = existing
    members, reason = HOSTILE[kind]
    folder = member("uploads", tarfile.DIRTYPE)
    archive = archive_with(tmp_path / "hostile.tar.gz", [(folder, b""), *members])
    before = snapshot_of(data)

    refused = cli(data, "restore", "--force", str(archive))

    assert refused.exit_code == 1, refused.output
    assert reason in refused.output and "refused" in refused.output
    assert_untouched(data, before)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/frontdesk-evil.txt").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alembic_revision": "9999"}, "newer than this frontdesk knows"),
        ({"format_version": 99}, "made by a newer frontdesk"),
        ({"format": "something else"}, "not a frontdesk backup"),
    ],
)
def test_archives_from_newer_versions_are_refused(existing, cli, tmp_path, change, message):
    data, _ = existing
    manifest = {
        "format": "frontdesk backup",
        "format_version": 1,
        "created_at": NOW.isoformat(),
        "frontdesk_version": "9.0",
        "alembic_revision": known_revisions()[-1],
        "database": "sqlite",
        "included": ["uploads"],
        "left_out": {},
        **change,
    }
    archive = archive_with(tmp_path / "newer.tar.gz", [], manifest)
    before = snapshot_of(data)
    refused = cli(data, "restore", "--force", str(archive))
    assert refused.exit_code == 1 and message in refused.output
    assert_untouched(data, before)


def test_an_older_backup_is_upgraded_to_this_schema(tmp_path, clock):
    data = tmp_path / "old"
    data.mkdir()
    engine = make_engine(f"sqlite:///{data / 'frontdesk.db'}")
    migrate.upgrade(engine, "0007")  # before the audit log existed
    engine.dispose()
    settings = Settings.from_values({"data_dir": data}).ensure_data_dir()
    out, manifest = create_backup(
        settings,
        tmp_path / "old.tar.gz",
        now=NOW,
        version="0.0.9",
        revision=lambda copy: revision_of(settings, copy),
        echo=lambda line: None,
    )
    assert manifest.alembic_revision == "0007"
    fresh = Settings.from_values({"data_dir": tmp_path / "fresh"})
    restore_backup(
        fresh,
        out,
        force=False,
        known_revisions=known_revisions(),
        migrate=upgrade_sqlite,
        now=NOW,
        echo=lambda line: None,
    )
    engine = make_engine(fresh.sqlalchemy_url)
    try:
        assert migrate.current_revision(engine) == known_revisions()[-1]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_with_postgresql_the_database_is_left_to_pg_dump(
    tmp_path, sqlite_template, clock, cli, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL half of the database fixture")
    data = tmp_path / "data"
    container = install(data, sqlite_template, clock, database_url=database_url)
    fill(container)
    container.engine.dispose()

    made = cli(data, "backup", str(tmp_path / "pg.tar.gz"), database_url=database_url)

    assert made.exit_code == 0, made.output
    assert "Not included: database: postgresql database" in made.output
    assert "pg_dump --format=custom --file=frontdesk.pgdump" in made.output
    with tarfile.open(tmp_path / "pg.tar.gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert not any(name.startswith("database") for name in names)
    assert "database" not in manifest["included"] and "database" in manifest["left_out"]
    assert manifest["alembic_revision"] == known_revisions()[-1]

    fresh = tmp_path / "fresh"
    restored = cli(fresh, "restore", str(tmp_path / "pg.tar.gz"), database_url=database_url)
    assert restored.exit_code == 0, restored.output
    assert "pg_restore --clean --if-exists --no-owner" in restored.output
    assert (fresh / "secret_key").read_text() == (data / "secret_key").read_text()
    assert snapshot_of(fresh / "uploads") == snapshot_of(data / "uploads")


def test_the_plan_names_what_is_left_out_and_hides_passwords():
    included, left_out = plan(
        Install(
            "postgresql+psycopg://frontdesk:s3cret@db.internal:5432/frontdesk",
            chroma_url="http://chroma:8000",
            key_in_data_dir=False,
        )
    )
    assert included == ["uploads", "attachments"]
    assert set(left_out) == {"database", "chroma", "secret_key"}
    assert "s3cret" not in json.dumps(left_out)
    assert pg_dump_command("postgresql+psycopg://u:pw@h:5433/fd") == (
        'pg_dump --format=custom --file=frontdesk.pgdump "postgresql://u@h:5433/fd"'
    )
    assert plan(Install("sqlite:////srv/frontdesk.db"))[0] == [
        "database",
        "agent_memory",
        "chroma",
        "uploads",
        "attachments",
        "secret_key",
    ]


@pytest.mark.parametrize(
    ("name", "is_file", "is_dir", "ok"),
    [
        ("uploads/1/a.pdf", True, False, True),
        ("./chroma/x/data_level0.bin", True, False, True),
        ("database/frontdesk.db", True, False, True),
        ("secret_key", True, False, True),
        ("uploads", False, True, True),
        ("database/other.db", True, False, False),
        ("uploads", True, False, False),
        ("../uploads/a", True, False, False),
        ("/etc/passwd", True, False, False),
        ("uploads\\..\\x", True, False, False),
        ("uploads/link", False, False, False),
    ],
)
def test_member_names(name, is_file, is_dir, ok):
    if ok:
        assert member_path(name, is_file=is_file, is_dir=is_dir)
    else:
        with pytest.raises(BackupError):
            member_path(name, is_file=is_file, is_dir=is_dir)


def test_a_manifest_that_is_not_json_is_refused():
    with pytest.raises(BackupError, match="damaged"):
        read_manifest(b"\x00\x01", ["0001"])


@pytest.mark.parametrize(
    "command", ["backup", "restore", "contacts", "contacts export", "contacts delete"]
)
def test_every_operations_command_has_help(command):
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


def test_a_backup_whose_database_cannot_be_upgraded_changes_nothing(existing, cli, tmp_path):
    """It fails after everything was read: the upgrade runs on the copy, never in place."""
    data, _ = existing
    broken = tmp_path / "broken.db"
    with sqlite3.connect(broken) as connection:  # says 0003, but has none of the tables
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0003')")
    database = tarfile.TarInfo("database/frontdesk.db")
    manifest = {
        "format": "frontdesk backup",
        "format_version": 1,
        "created_at": NOW.isoformat(),
        "frontdesk_version": "0.1.0",
        "alembic_revision": "0003",
        "database": "sqlite",
        "included": ["database", "uploads"],
        "left_out": {},
    }
    archive = archive_with(tmp_path / "old.tar.gz", [(database, broken.read_bytes())], manifest)
    before = snapshot_of(data)

    refused = cli(data, "restore", "--force", str(archive))

    assert refused.exit_code == 1, refused.output
    assert "could not be upgraded" in refused.output and "Nothing was changed." in refused.output
    assert_untouched(data, before)
