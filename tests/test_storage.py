"""Migrations and storage rules on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, inspect, text

from agent.core.errors import Conflict, NotFound
from agent.core.models import (
    Appointment,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Message,
    MessageTemplate,
)
from agent.storage import migrate
from agent.storage.database import make_engine
from agent.storage.tables import metadata
from tests.conftest import make_workspace


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = request.getfixturevalue("postgres_server_url")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migrate_test CASCADE"))
        connection.execute(text("CREATE SCHEMA migrate_test"))
    admin.dispose()
    yield base + "?options=-csearch_path%3Dmigrate_test"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migrate_test CASCADE"))
    admin.dispose()


def test_migrations_build_the_schema_from_empty(empty_database):
    engine = make_engine(empty_database)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    migrate.upgrade(engine)  # idempotent
    assert migrate.is_current(engine)
    engine.dispose()


def test_migrations_match_the_models(empty_database):
    """Autogenerate finds nothing to do: the migrations and tables.py agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(empty_database)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []


def test_session_versions_migrate_up_and_down_keeping_the_team(empty_database):
    """0004 gives existing members session version 0 (nobody is signed out by the upgrade),
    and its downgrade drops the column and nothing else."""
    from alembic import command

    engine = make_engine(empty_database)
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))

    def run(step, revision: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    def team() -> list[tuple]:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT id, email FROM team_member")))

    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspace (name, timezone, country, address, phone, email, hours, "
                "services, appointment_minutes, links, instructions, widget, widget_key) VALUES "
                "('Bayside', 'UTC', 'CA', '', '', '', '{}', '[]', 60, '{}', '', '{}', 'k1')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO team_member (workspace_id, name, email, role, password_hash, "
                "avatar_url, notify) VALUES (1, 'Dana', 'dana@bayside.example', 'admin', 'x', "
                "'', 'instant')"
            )
        )
    run(command.upgrade, "0004")
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT session_version FROM team_member"))
        assert list(versions.scalars()) == [0]
    run(command.downgrade, "0003")
    columns = {c["name"] for c in inspect(engine).get_columns("team_member")}
    assert "session_version" not in columns and "notify" in columns
    assert team() == [(1, "dana@bayside.example")]
    migrate.upgrade(engine)
    assert migrate.is_current(engine) and team() == [(1, "dana@bayside.example")]
    engine.dispose()


def test_times_round_trip_as_aware_utc(container):
    workspace, _ = make_workspace(container)
    vancouver = timezone(timedelta(hours=-8))
    start = datetime(2026, 3, 3, 7, 0, tzinfo=vancouver)
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        repo.add(
            Appointment(workspace_id=workspace.id, start=start, end=start + timedelta(hours=1))
        )
        uow.commit()
    with container.uow() as uow:
        (stored,) = uow.workspace(workspace.id).appointments.list()
    assert stored.start == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    assert stored.start.tzinfo is not None


def test_naive_datetimes_are_refused(container):
    workspace, _ = make_workspace(container)
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        naive = datetime(2026, 3, 3, 7, 0)
        repo.add(Appointment(workspace_id=workspace.id, start=naive, end=naive))
        with pytest.raises(Exception, match="naive datetime"):
            uow.commit()


def test_repositories_are_scoped_to_one_workspace(container):
    a, _ = make_workspace(container, "Alpha Clinic")
    b, _ = make_workspace(container, "Beta Clinic")
    with container.uow() as uow:
        repo_a = uow.workspace(a.id)
        contact = Contact(
            workspace_id=a.id, first_name="Ann", email="ann@x.example", source_channel="email"
        )
        repo_a.add(contact)
        repo_a.add(MessageTemplate(workspace_id=a.id, name="hello", body="Hello!"))
        uow.commit()
    with container.uow() as uow:
        repo_b = uow.workspace(b.id)
        with pytest.raises(NotFound):
            repo_b.contacts.get(contact.id)
        assert repo_b.contacts.find(email="ann@x.example") is None
        assert repo_b.contacts.search("ann") == [] and repo_b.contacts.count("ann") == 0
        assert repo_b.templates.all() == [] and len(repo_b.team.all()) == 1
        with pytest.raises(PermissionError):
            repo_b.add(Contact(workspace_id=a.id, source_channel="sms"))
        with pytest.raises(PermissionError):
            repo_b.delete(contact)


def _new_conversation(repo, channel: str) -> Conversation:
    """A new conversation with its contact, flushed."""
    contact = Contact(workspace_id=repo.workspace_id, source_channel=channel)
    repo.add(contact)
    repo.flush()
    conversation = Conversation(workspace_id=repo.workspace_id, contact_id=contact.id)
    repo.add(conversation)
    repo.flush()
    return conversation


def test_batch_lookups_find_only_their_own_workspace(container):
    """The inbox list's batch loads: the newest message per conversation, members by id."""
    a, alpha_admin = make_workspace(container, "Alpha Clinic")
    b, beta_admin = make_workspace(container, "Beta Clinic")
    conversations = {}
    with container.uow() as uow:
        for workspace, bodies in ((a, ["a1", "a2", "a3"]), (b, ["b1", "b2"]), (a, [])):
            repo = uow.workspace(workspace.id)
            conversation = _new_conversation(repo, "sms")
            for body in bodies:
                repo.add(
                    Message(
                        workspace_id=workspace.id,
                        conversation_id=conversation.id,
                        direction="in",
                        author_kind="contact",
                        body=body,
                    )
                )
                repo.flush()
            conversations[bodies[0][0] if bodies else "empty"] = conversation.id
        uow.commit()
    everyone = [alpha_admin.id, beta_admin.id, 10_000]
    with container.uow() as uow:
        repo_a = uow.workspace(a.id)
        newest = repo_a.messages.latest([*conversations.values(), 10_000])
        assert {cid: m.body for cid, m in newest.items()} == {conversations["a"]: "a3"}
        assert repo_a.messages.latest([]) == {}
        assert list(repo_a.team.by_ids(everyone)) == [alpha_admin.id]
        assert repo_a.team.by_ids([]) == {}
        repo_b = uow.workspace(b.id)
        newest = repo_b.messages.latest(conversations.values())
        assert {cid: m.body for cid, m in newest.items()} == {conversations["b"]: "b2"}
        assert list(repo_b.team.by_ids(everyone)) == [beta_admin.id]


def test_unique_rules_surface_as_conflicts(container):
    workspace, _ = make_workspace(container)
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        repo.add(MessageTemplate(workspace_id=workspace.id, name="hello", body="1"))
        repo.add(MessageTemplate(workspace_id=workspace.id, name="hello", body="2"))
        with pytest.raises(Conflict):
            uow.commit()
    with container.uow() as uow:
        assert uow.workspace(workspace.id).templates.all() == []


def test_an_inserted_message_and_a_touched_conversation_save_like_flushed_ones(container):
    """The inbound path's plain INSERT and UPDATE: what they write, what stays tracked."""
    workspace, _ = make_workspace(container)
    other, _ = make_workspace(container, "Other Clinic")
    when = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)

    def message(body: str, conversation_id: int, workspace_id: int = workspace.id) -> Message:
        return Message(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            direction="in",
            author_kind="contact",
            body=body,
            provider_message_id="visitor:1",
            meta={"origin": "https://site.example"},
            created_at=when,
        )

    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        conversation = _new_conversation(repo, "webchat")
        new = message("Hello", conversation.id)
        repo.messages.insert(new)
        assert new.id is not None
        new.delivery_status = DeliveryStatus.SENT  # tracked: saved on commit
        conversation.status = ConversationStatus.CLOSED  # changed before the touch: kept
        repo.conversations.touch(conversation, when)
        with pytest.raises(PermissionError):
            repo.messages.insert(message("Not yours", conversation.id, other.id))
        uow.commit()
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        stored = repo.messages.get(new.id)
        assert (stored.body, stored.meta, stored.created_at) == (
            "Hello",
            {"origin": "https://site.example"},
            when,
        )
        assert stored.delivery_status == DeliveryStatus.SENT
        touched = repo.conversations.get(conversation.id)
        assert (touched.last_message_at, touched.updated_at) == (when, when)
        assert touched.status == ConversationStatus.CLOSED
        with pytest.raises(PermissionError):
            uow.workspace(other.id).conversations.touch(touched, when)
    with container.uow() as uow, pytest.raises(Conflict):  # the same provider message again
        uow.workspace(workspace.id).messages.insert(message("Again", conversation.id))
    with container.uow() as uow:
        bodies = [
            m.body for m in uow.workspace(workspace.id).messages.for_conversation(conversation.id)
        ]
    assert bodies == ["Hello"]


def test_a_new_messages_broadcast_reads_back_what_its_commit_wrote_without_a_query(container):
    from sqlalchemy import event

    workspace, _ = make_workspace(container)
    statements: list[str] = []
    event.listen(container.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def write_message(body: str, *, then: str = "") -> Message:
        with container.uow() as uow:
            repo = uow.workspace(workspace.id)
            conversation = _new_conversation(repo, "webchat")
            contact = repo.contacts.get(conversation.contact_id)  # held, as receiving holds it
            message = Message(
                workspace_id=workspace.id,
                conversation_id=conversation.id,
                direction="in",
                author_kind="contact",
                body=body,
            )
            repo.messages.insert(message)
            uow.commit()
            assert contact.id is not None
            if then:
                message.body = then  # changed after the commit, and never saved
        return message

    def read_back(message: Message) -> tuple[int, str, int]:
        statements.clear()
        with container.uow(read_only=True) as uow:
            repo = uow.workspace(workspace.id)
            repo.messages.preload(message.id)
            found = repo.messages.get(message.id)
            conversation = repo.conversations.get(found.conversation_id)
            contact = repo.contacts.get(conversation.contact_id)
            return len(statements), found.body, contact.id

    message = write_message("Hello")
    assert read_back(message) == (0, "Hello", message_contact(container, workspace.id, message))
    # Taken once: a second read of it asks the database.
    assert read_back(message)[0] > 0
    # Changed since its commit: read from the database, as stored.
    changed = write_message("Stored", then="Never saved")
    count, body, _ = read_back(changed)
    assert count > 0 and body == "Stored"
    # Another commit since: its objects are not this message's.
    first = write_message("First")
    write_message("Second")
    assert read_back(first)[0] > 0


def message_contact(container, workspace_id: int, message: Message) -> int:
    with container.uow(read_only=True) as uow:
        repo = uow.workspace(workspace_id)
        return repo.conversations.get(message.conversation_id).contact_id
