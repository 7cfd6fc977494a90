"""What ``/metrics`` reports, in the Prometheus text format; pure: figures in, text out.

Every metric is read fresh from the database and Redis on each scrape, so all web
processes report the same figures and none is lost to a restart:

``frontdesk_messages_total{channel, direction}`` (counter)
    Customer messages stored, per channel (webchat, email, sms...) and direction (``in``
    from customers, ``out`` to them). Counted from the database: deleting conversations
    or contacts lowers it, which Prometheus reads as a counter reset.
``frontdesk_delivery_failures_total{channel}`` (counter)
    Outbound messages whose delivery failed for good (their status is ``failed``); a
    message that staff retry successfully leaves the count.
``frontdesk_turn_seconds`` (histogram)
    How long each answered AI turn took in a worker, from the job's start (waiting for
    the conversation's lock included) to the stored reply; buckets at 0.25, 0.5, 1, 2.5,
    5, 10, 20, 30, 60 and 120 s. Recorded in Redis by workers, so it covers queued
    turns only (not phone calls, answered in the web process, nor runs without Redis).
``frontdesk_queue_depth{queue}`` (gauge)
    Jobs waiting in each rq queue (turns, default, ingest); a growing number means the
    workers cannot keep up.
``frontdesk_workers_alive{queue}`` (gauge)
    Workers serving each queue whose heartbeat is current (the same figure as
    ``/healthz``); 0 means that queue's jobs are not being run.

Without Redis (inline mode) the histogram stays empty and the two gauges have no
samples. ``/metrics`` is off unless FRONTDESK_METRICS_TOKEN is set; Prometheus then
sends it as a bearer token (``authorization: {credentials: ...}`` in a scrape config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Figures:
    """One scrape's worth of readings, gathered by the caller."""

    messages: Mapping[tuple[str, str], int]  # (channel, direction) -> count
    delivery_failures: Mapping[str, int]  # channel -> count
    turn_buckets: list[tuple[str, int]]  # cumulative, ending with ("+Inf", count)
    turn_seconds_sum: float
    queue_depth: Mapping[str, int]
    workers_alive: Mapping[str, int]


def families(figures: Figures) -> Iterator[Metric]:
    """The metric families, with their HELP text and labels, in a stable order."""
    messages = CounterMetricFamily(
        "frontdesk_messages",
        "Customer messages stored, per channel and direction (in: from customers).",
        labels=["channel", "direction"],
    )
    for (channel, direction), count in sorted(figures.messages.items()):
        messages.add_metric([channel, direction], count)
    yield messages
    failures = CounterMetricFamily(
        "frontdesk_delivery_failures",
        "Outbound messages whose delivery failed, per channel.",
        labels=["channel"],
    )
    for channel, count in sorted(figures.delivery_failures.items()):
        failures.add_metric([channel], count)
    yield failures
    turns = HistogramMetricFamily(
        "frontdesk_turn_seconds", "Seconds each answered AI turn took in a worker."
    )
    turns.add_metric([], figures.turn_buckets, figures.turn_seconds_sum)
    yield turns
    depth = GaugeMetricFamily(
        "frontdesk_queue_depth", "Jobs waiting in each queue.", labels=["queue"]
    )
    for queue, count in figures.queue_depth.items():
        depth.add_metric([queue], count)
    yield depth
    workers = GaugeMetricFamily(
        "frontdesk_workers_alive",
        "Workers serving each queue with a current heartbeat.",
        labels=["queue"],
    )
    for queue, count in figures.workers_alive.items():
        workers.add_metric([queue], count)
    yield workers


class FrontdeskCollector:
    """A prometheus_client collector: each scrape gathers fresh figures and formats them."""

    def __init__(self, gather: Callable[[], Figures]) -> None:
        self._gather = gather

    def collect(self) -> Iterator[Metric]:
        return families(self._gather())


def registry(gather: Callable[[], Figures]) -> CollectorRegistry:
    """A registry holding only frontdesk's metrics (not the process's own, which would
    describe whichever web process happened to answer)."""
    found = CollectorRegistry(auto_describe=False)
    found.register(FrontdeskCollector(gather))
    return found


def exposition(source: CollectorRegistry) -> bytes:
    """Every metric of the registry, in the Prometheus text exposition format (0.0.4)."""
    return generate_latest(source)
