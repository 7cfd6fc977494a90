"""/healthz per dependency and /metrics for Prometheus, against real Redis, databases,
rq workers and a real Chroma server process."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.queue.turn_timings import BUCKETS, RedisTurnTimings, bucket_field
from agent.queue.workers import heartbeat
from frontdesk.web import create_app
from frontdesk.wiring import build
from inbox.health import Remembered
from inbox.metrics import authorized
from tests.conftest import make_workspace

TOKEN = "scrape-me-4f1c9a"
ALL_QUEUES = ["turns", "default", "ingest"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_for(container):
    return create_app(container, testing=True)[0].test_client()


# -- /healthz ------------------------------------------------------------------------------


def test_healthz_is_ok_when_every_dependency_is_up(settings, clock, redis_conn, redis_url):
    container = build(settings.ensure_data_dir(), redis_url=redis_url, clock=clock)
    client = client_for(container)
    with heartbeat(redis_conn, "w1", ALL_QUEUES, every=0.1):
        response = client.get("/healthz")
    assert response.status_code == 200, response.json
    assert response.json == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok", "workers": "ok", "knowledge": "ok"},
        "workers": {"turns": 1, "default": 1, "ingest": 1},
    }
    container.engine.dispose()


def test_healthz_names_redis_when_it_is_down(sqlite_settings, clock):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    container = build(sqlite_settings, redis_url=down, clock=clock)
    response = client_for(container).get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["checks"]["queue"] == "error: Redis did not answer (ConnectionError)"
    assert response.json["checks"]["database"] == "ok"
    assert "workers" not in response.json  # unknown, not zero, while Redis is down
    # Liveness, what the load balancer routes on, stays up: pages still work.
    live = client_for(container).get("/livez")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    container.engine.dispose()


def test_healthz_follows_a_chroma_server_up_and_down(sqlite_settings, clock, chroma_server):
    """CHROMA_URL: the HTTP client's heartbeat; a server that stops turns the check red."""
    proc, url = chroma_server.process, chroma_server.url
    served = replace(sqlite_settings, chroma_url=url).ensure_data_dir()
    container = build(served, clock=clock)
    client = client_for(container)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["knowledge"] == "ok"
    proc.terminate()
    proc.wait(timeout=10)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["knowledge"].startswith(
        "error: Chroma (the knowledge index) did not answer"
    )
    container.engine.dispose()


def test_healthz_names_chroma_when_it_cannot_be_reached(sqlite_settings, clock, tmp_path):
    """A CHROMA_URL nothing listens on, and embedded files that cannot be opened."""
    for broken in (
        replace(sqlite_settings, chroma_url=f"http://127.0.0.1:{closed_port()}"),
        replace(sqlite_settings, data_dir=tmp_path / "embedded"),
    ):
        broken = broken.ensure_data_dir()
        if not broken.chroma_url:
            broken.chroma_path.write_text("a file where Chroma's directory should be")
        container = build(broken, clock=clock)
        response = client_for(container).get("/healthz")
        assert response.status_code == 503, broken
        checks = response.json["checks"]
        assert set(checks) == {"database", "knowledge"} and checks["database"] == "ok"
        assert checks["knowledge"].startswith("error: Chroma (the knowledge index) did not answer")
        container.engine.dispose()


def test_healthz_is_unavailable_when_no_worker_beat_recently(
    sqlite_settings, clock, redis_conn, redis_url
):
    container = build(sqlite_settings, redis_url=redis_url, clock=clock)
    client = client_for(container)
    # A worker that beat long ago: its heartbeat key has expired.
    redis_conn.set("frontdesk:worker:gone", '{"queues": ["turns", "default", "ingest"]}', px=20)
    time.sleep(0.05)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["workers"] == "none for turns, default, ingest"
    assert response.json["workers"] == {"turns": 0, "default": 0, "ingest": 0}
    with heartbeat(redis_conn, "w1", ["turns", "default"], every=0.1):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["workers"] == "none for ingest"
    container.engine.dispose()


def test_the_migration_check_is_remembered_for_a_while():
    now, asked = [100.0], []

    def ask() -> bool:
        asked.append(now[0])
        return len(asked) > 1  # behind at first, then migrated

    check = Remembered(ask, seconds=30, now=lambda: now[0])
    assert check() is False
    now[0] = 129.0
    assert check() is False and asked == [100.0]
    now[0] = 130.5
    assert check() is True and asked == [100.0, 130.5]


def test_healthz_remembers_the_migration_check_per_process(tmp_path, clock):
    """Alembic is asked once per ``SCHEMA_SECONDS`` in each process, not on every request:
    a database migrated meanwhile shows as current once that answer expires."""
    settings = Settings.from_values({"data_dir": tmp_path / "data"}).ensure_data_dir()
    container = build(settings, clock=clock)
    client = client_for(container)
    assert client.get("/healthz").json["checks"]["database"] == "needs migration"
    container.migrate()
    assert client.get("/healthz").json["checks"]["database"] == "needs migration"
    assert client_for(container).get("/healthz").status_code == 200  # a process started now
    container.engine.dispose()


def test_a_failed_migration_check_is_not_remembered():
    answers = iter([RuntimeError("the database went away"), True])

    def ask() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    check = Remembered(ask, seconds=30, now=lambda: 0.0)
    with pytest.raises(RuntimeError):
        check()
    assert check() is True


# -- /metrics ------------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(app_container):
    response = client_for(app_container).get(
        "/metrics", headers={"Authorization": "Bearer anything"}
    )
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert "Metrics are off" in response.text and "FRONTDESK_METRICS_TOKEN" in response.text


def test_metrics_refuse_a_wrong_or_missing_token(sqlite_settings, clock):
    container = build(replace(sqlite_settings, metrics_token=TOKEN).ensure_data_dir(), clock=clock)
    client = client_for(container)
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "frontdesk_" not in response.text
    assert client.get("/metrics", headers={"Authorization": f"bearer  {TOKEN} "}).status_code == 200
    container.engine.dispose()


def test_bearer_tokens_are_compared_whole():
    assert authorized(f"Bearer {TOKEN}", TOKEN)
    assert not authorized("Bearer ", TOKEN)
    assert not authorized(TOKEN, TOKEN)
    assert not authorized("Bearer sçrape", TOKEN)  # not ASCII: refused, not an error


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, by name and labels, as a real Prometheus text parser reads it."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def visitor(body: str, thread: str = "v1") -> Inbound:
    return Inbound(channel="webchat", body=body, thread_id=thread, provider_message_id=None)


def test_metrics_report_what_happened(queued, redis_conn):
    """Widget messages in and out, a failed SMS delivery, an answered turn timed by the
    worker, turns waiting without a worker, and the live workers per queue."""
    container, responder = queued
    container.settings = replace(container.settings, metrics_token=TOKEN)
    responder.delay = 0.3
    workspace, dana = make_workspace(container)
    # Staff text a customer, but SMS was never connected: its delivery fails for good.
    container.conversations.start_conversation(
        workspace.id,
        dana.id,
        "sms",
        "Your crown is ready.",
        new_contact=ContactDetails(first_name="Sam", phone="(604) 555-0142"),
    )
    container.conversations.receive(workspace.id, visitor("hello"))
    container.worker(["turns", "default"]).work(burst=True)  # the turn, the SMS delivery
    for n in range(2):  # no worker runs these: they wait in the turns queue
        container.conversations.receive(workspace.id, visitor(f"still there? {n}", f"v{n + 2}"))

    client = client_for(container)
    with heartbeat(redis_conn, "w1", ["turns"], every=0.1):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert "# HELP frontdesk_turn_seconds " in response.text
    assert "# TYPE frontdesk_messages_total counter" in response.text

    def get(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert get("frontdesk_messages_total", channel="webchat", direction="in") == 3
    # A welcome message in each of the three chats, and the AI's one answer.
    assert get("frontdesk_messages_total", channel="webchat", direction="out") == 3 + 1
    assert get("frontdesk_messages_total", channel="sms", direction="out") == 1
    assert get("frontdesk_delivery_failures_total", channel="sms") == 1
    assert ("frontdesk_delivery_failures_total", (("channel", "webchat"),)) not in samples

    assert get("frontdesk_turn_seconds_count") == 1
    took = get("frontdesk_turn_seconds_sum")
    assert 0.3 <= took < 5
    for bound in BUCKETS:
        assert get("frontdesk_turn_seconds_bucket", le=str(bound)) == (1 if took <= bound else 0)
    assert get("frontdesk_turn_seconds_bucket", le="0.25") == 0  # the 0.3 s pause
    assert get("frontdesk_turn_seconds_bucket", le="+Inf") == 1

    assert get("frontdesk_queue_depth", queue="turns") == 2
    assert get("frontdesk_queue_depth", queue="default") == 0
    assert get("frontdesk_queue_depth", queue="ingest") == 1  # the new workspace's profile
    assert get("frontdesk_workers_alive", queue="turns") == 1
    assert get("frontdesk_workers_alive", queue="default") == 0


def test_turn_durations_land_in_their_buckets(redis_conn):
    timings = RedisTurnTimings(redis_conn, key="frontdesk:test:turn_seconds")
    for seconds in (0.1, 0.25, 0.26, 3.0, 500.0):
        timings.record(seconds)
    read = timings.read()
    assert read.count == 5 and read.total_seconds == pytest.approx(503.61)
    cumulative = dict(read.buckets)
    assert cumulative["0.25"] == 2  # a bucket's bound is inclusive
    assert cumulative["0.5"] == 3
    assert cumulative["2.5"] == 3 and cumulative["5.0"] == 4
    assert cumulative["120.0"] == 4 and cumulative["+Inf"] == 5
    assert [bucket_field(s) for s in (0.0, 1.0, 1.01, 121)] == ["0.25", "1.0", "2.5", "+Inf"]


def test_metrics_without_a_queue_still_count_messages(app_container):
    """Inline mode (no Redis): message figures, an empty histogram, no queue gauges."""
    container = app_container
    container.settings = replace(container.settings, metrics_token=TOKEN)
    workspace, _ = make_workspace(container)
    container.conversations.receive(workspace.id, visitor("hello"))
    response = client_for(container).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    samples = _samples(response.text)
    assert samples[("frontdesk_messages_total", (("channel", "webchat"), ("direction", "in")))] == 1
    assert samples[("frontdesk_turn_seconds_count", ())] == 0
    assert not [name for name, _ in samples if name.startswith("frontdesk_queue_depth")]


def test_metrics_say_so_when_redis_is_down(sqlite_settings, clock):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    container = build(
        replace(sqlite_settings, metrics_token=TOKEN).ensure_data_dir(), redis_url=down, clock=clock
    )
    response = client_for(container).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    assert response.text == "Metrics are unavailable: ConnectionError (see the log).\n"
    container.engine.dispose()
