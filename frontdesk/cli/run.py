"""Running frontdesk: `up` (everything in one command) and `worker` (background jobs)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import click
from redis.exceptions import RedisError

from agent.core.errors import Busy
from agent.core.knowledge import KnowledgeService
from agent.core.notifications import NotificationService
from agent.core.ports import Locks
from agent.queue.dispatch import TURNS_QUEUE
from agent.queue.locks import LockTimeout, RedisLocks
from agent.queue.orphans import stop_forks_when_orphaned
from agent.queue.redis_server import EmbeddedRedis, EmbeddedRedisError
from agent.queue.workers import heartbeat
from frontdesk.cli.context import CliContext
from frontdesk.supervisor import Supervisor
from frontdesk.wiring import WORKER_QUEUES, Container

pass_cli = click.make_pass_decorator(CliContext)
log = logging.getLogger(__name__)
REFRESH_CHECK_SECONDS = 300


@contextmanager
def redis_url_for(cli: CliContext) -> Iterator[str]:
    """REDIS_URL when set; otherwise the embedded server (started here, or already running)."""
    if cli.settings.redis_url:
        yield cli.settings.redis_url
        return
    embedded = EmbeddedRedis(cli.settings.redis_dir)
    try:
        url = embedded.start()
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield url
    finally:
        embedded.stop()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _stop_once(signum: int, frame: object) -> None:
    """The first Ctrl-C or SIGTERM stops `up`; more while it shuts down (supervisors often
    send both) are ignored, so the workers and Redis are always stopped in order."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def _web_command(host: str, port: int, log_level: str, processes: int) -> list[str]:
    """The production web server (``frontdesk.server``) in a fresh interpreter."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [sys.executable, "-m", "frontdesk.server", "--log-level", log_level]
    return [*command, "--bind", bind, "--processes", str(processes)]


def _wait_until_serving(host: str, port: int, timeout: float = 120) -> bool:
    """Whether the web server accepts connections within ``timeout`` seconds."""
    address = "127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _wait_for_stop() -> None:
    """Sleep until Ctrl-C or SIGTERM (``_stop_once`` turns both into KeyboardInterrupt)."""
    while True:
        time.sleep(3600)


def _claim_port(host: str, port: int) -> None:
    if not _port_free(host, port):
        raise click.ClickException(f"port {port} on {host} is in use; pick another with --port")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_once)


host_option = click.option(
    "--host", default=None, help="Interface to listen on [default: FRONTDESK_HOST or 127.0.0.1]."
)
port_option = click.option(
    "--port", type=int, default=None, help="Port to listen on [default: FRONTDESK_PORT or 8000]."
)
web_processes_option = click.option(
    "--web-processes",
    type=click.IntRange(1, 32),
    default=None,
    help="Web server processes on the port, e.g. one per core; more than one serves "
    "Socket.IO over WebSocket only [default: FRONTDESK_WEB_PROCESSES or 1].",
)


@click.command()
@host_option
@port_option
@click.option("--workers", type=click.IntRange(0, 32), default=None, help="Worker processes.")
@web_processes_option
@pass_cli
def up(
    cli: CliContext,
    host: str | None,
    port: int | None,
    workers: int | None,
    web_processes: int | None,
) -> None:
    """Start the web app, background workers and embedded services; Ctrl-C stops them all."""
    settings = cli.settings
    host = host or settings.host
    port = port or settings.port
    count = settings.workers if workers is None else workers
    web_count = web_processes or settings.web_processes
    _claim_port(host, port)
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        container = cli.container  # the schema is brought up to date here, once
        env = {**os.environ, "FRONTDESK_DATA_DIR": str(settings.data_dir), "REDIS_URL": redis_url}
        # AI turns never wait behind a long crawl: ingestion has workers of its own.
        plan = [("turns,default", count), ("ingest", max(1, count) if count else 0)]
        processes = Supervisor(
            [
                _web_command(host, port, settings.log_level, web_count),
                *(
                    [sys.executable, "-m", "frontdesk.cli", "worker", "--queues", queues]
                    for queues, n in plan
                    for _ in range(n)
                ),
            ],
            env,
        )
        processes.start()
        mail = None
        try:
            if settings.inbound_smtp_port:
                from frontdesk.cli.smtp import listening, start_inbound

                mail = start_inbound(container)
            requeued = container.knowledge.requeue_pending()
            if not _wait_until_serving(host, port):
                raise click.ClickException(f"the web server did not start on {host}:{port}")
            base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
            click.echo("")
            click.echo(f"  frontdesk is up: open {base}/")
            click.echo(f"  widget demo:      {base}/demo  (the chat on a sample business page)")
            click.echo(f"  health check:     {base}/healthz")
            if web_count > 1:
                click.echo(f"  web server:       {web_count} processes (WebSocket only)")
            click.echo(f"  data directory:   {settings.data_dir}")
            click.echo(
                f"  queue:            {redis_url} ({len(processes.pids) - 1} worker process(es))"
            )
            if mail is not None:
                click.echo(f"  inbound mail:     {listening(mail)} (for @{settings.email_domain})")
            if requeued:
                click.echo(f"  knowledge:        {requeued} source(s) queued for ingestion")
            click.echo("  Press Ctrl-C to stop.")
            click.echo("")
            _wait_for_stop()
        except KeyboardInterrupt:
            pass
        finally:
            if mail is not None:
                mail.stop()
            click.echo("Stopping workers...")
            processes.stop()
    click.echo("frontdesk stopped.")


@click.command()
@host_option
@port_option
@web_processes_option
@pass_cli
def serve(cli: CliContext, host: str | None, port: int | None, web_processes: int | None) -> None:
    """Serve the web app alone, on the production server (gunicorn with gevent).

    For deployments that run `frontdesk worker` processes separately, and several web
    servers behind a sticky load balancer (see deploy/) or one with --web-processes N on
    the port (WebSocket only). Set REDIS_URL to the shared Redis; without it the
    embedded one is started (or joined) as for `up`.
    """
    settings = cli.settings
    host = host or settings.host
    port = port or settings.port
    _claim_port(host, port)
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        cli.container  # noqa: B018 - brings the schema up to date (waiting for the database)
        env = {**os.environ, "FRONTDESK_DATA_DIR": str(settings.data_dir), "REDIS_URL": redis_url}
        processes = web_processes or settings.web_processes
        web = Supervisor([_web_command(host, port, settings.log_level, processes)], env)
        web.start()
        try:
            if _wait_until_serving(host, port):
                shared = f" ({processes} processes, WebSocket only)" if processes > 1 else ""
                click.echo(f"frontdesk web serving on {host}:{port}{shared}; Ctrl-C stops it.")
            _wait_for_stop()
        except KeyboardInterrupt:
            pass
        finally:
            web.stop()
    click.echo("frontdesk web stopped.")


def _start_refresh_scheduler(
    knowledge: KnowledgeService,
    notifications: NotificationService,
    every: float = REFRESH_CHECK_SECONDS,
    locks: Locks | None = None,
) -> Callable[[], None]:
    """Every few minutes until stopped: queue websites due a refresh, send daily digests.

    Workers run it (those that serve AI turns), so every deployment does, however its
    processes are split; with ``locks`` one round runs at a time across all of them.
    """

    def round_() -> None:
        try:
            with locks.hold("refresh-round") if locks else nullcontext():
                _refresh_round(knowledge, notifications)
        except Busy:
            pass  # another worker is running this round

    return _every(every, round_, "knowledge-refresh")


def _refresh_round(knowledge: KnowledgeService, notifications: NotificationService) -> None:
    try:
        knowledge.refresh_due()
    except Exception:
        log.exception("could not queue due knowledge refreshes")
    try:
        notifications.send_digests()
    except Exception:
        log.exception("could not send the daily notification digests")


def _every(seconds: float, task: Callable[[], None], name: str) -> Callable[[], None]:
    """Run ``task`` every ``seconds`` on a thread until the returned stop is called; the
    stop waits for a round in progress, so nothing writes after it. Errors are logged."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            try:
                task()
            except Exception:
                log.exception("%s failed", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=30)

    return halt


@click.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--name", default=None, help="Worker name shown in rq's registries.")
@click.option(
    "--queues",
    default=",".join(WORKER_QUEUES),
    show_default=True,
    help="Comma-separated queues to serve, most urgent first.",
)
@pass_cli
def worker(cli: CliContext, burst: bool, name: str | None, queues: str) -> None:
    """Run background jobs (AI turns, ingestion, notifications) until stopped."""
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(WORKER_QUEUES))
    if unknown:
        raise click.UsageError(
            f"unknown queue {unknown[0]!r} (choose from {', '.join(WORKER_QUEUES)})"
        )
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        from frontdesk.web import attach_worker_broadcaster

        attach_worker_broadcaster(cli.container)  # live updates for staff from AI turns
        container = cli.container
        rq_worker = container.worker(names, name)
        # Workers that run turns also sweep for lost ones (one sweep at a time across them).
        sweeping = TURNS_QUEUE in names and not burst
        every = cli.settings.sweep_seconds
        stop_sweep = _every(every, lambda: _sweep(container), "turn-sweep") if sweeping else None
        stop_refresh = (
            _start_refresh_scheduler(
                container.knowledge,
                container.notifications,
                locks=RedisLocks(container.redis, ttl=REFRESH_CHECK_SECONDS, wait=0),
            )
            if sweeping
            else None
        )
        stop_forks_when_orphaned()  # rq's scheduler process must not outlive a killed worker
        try:
            with heartbeat(container.redis, rq_worker.name, names):
                rq_worker.work(
                    burst=burst, with_scheduler=True, logging_level=cli.settings.log_level
                )
        finally:
            if stop_sweep:
                stop_sweep()
            if stop_refresh:
                stop_refresh()


WEBHOOK_PROVIDERS = ("meta", "whatsapp", "twilio")


def _sweep(container: Container) -> None:
    try:
        ttl = container.settings.sweep_seconds
        with RedisLocks(container.redis, ttl=ttl, wait=0).hold("turn-sweep"):
            container.sweeper.sweep()
            for provider in WEBHOOK_PROVIDERS:  # webhook bodies whose drain job was lost
                container.webhook_queue.kick(provider)
            container.delivery.sweep()  # messages whose delivery job was lost
            container.outgoing_webhooks.sweep()  # webhook deliveries whose job was lost
            container.automations.unanswered_round()  # "no reply for N minutes" rules
    except LockTimeout:
        pass  # another worker is sweeping
    except RedisError as exc:  # one line a round, not a traceback: the next round retries
        log.warning("sweep skipped: the queue (Redis) is unreachable: %s", exc)
