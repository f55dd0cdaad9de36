"""Prometheus metrics of one agent process, in a registry of its own (never the global one)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["AgentMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _LatencyHistogram(Collector):
    """``corps_handler_seconds``: a histogram whose observation is one bisect and two additions.

    ``prometheus_client.Histogram.observe`` costs a few microseconds (locks, a loop over the buckets),
    more than the rest of the metrics of a record together; this keeps plain per-bucket counts and
    renders them as a standard histogram when scraped.
    """

    def __init__(self, agent: str, bounds: tuple[float, ...]) -> None:
        self._agent = agent
        self._bounds = bounds
        self._series: dict[str, list[float]] = {}  # per event type: a count per bucket, then the sum

    def observe(self, event_type: str, seconds: float) -> None:
        series = self._series.get(event_type)
        if series is None:
            series = self._series[event_type] = [0.0] * (len(self._bounds) + 2)
        series[bisect_left(self._bounds, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "corps_handler_seconds", "Handler latency", labels=["agent", "event_type"]
        )
        for event_type, series in list(self._series.items()):
            counts = list(series)
            buckets, total = [], 0.0
            for bound, n in zip((*map(floatToGoString, self._bounds), "+Inf"), counts[:-1], strict=True):
                total += n
                buckets.append((bound, total))
            family.add_metric([self._agent, event_type], buckets, counts[-1])
        yield family


class AgentMetrics:
    """Counters, histograms and gauges of an agent, cheap on the hot path.

    Counter increments are gathered in plain dicts and applied by :meth:`flush` (the engine calls it
    once per batch); handler latencies go to a histogram that counts per bucket without locks; label
    children are cached.

    Args:
        agent: Agent name (the ``agent`` label of every series).
        registry: Where the series live (a fresh one by default).
    """

    def __init__(self, agent: str, registry: CollectorRegistry | None = None) -> None:
        self.agent = agent
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._in = Counter("corps_events_in", "Events consumed", ["agent", "event_type"], registry=r)
        self._out = Counter("corps_events_out", "Events produced", ["agent", "event_type"], registry=r)
        self._ignored = Counter(
            "corps_events_ignored", "Records skipped (not for this agent)", ["agent"], registry=r
        )
        self._latency = _LatencyHistogram(agent, _LATENCY_BUCKETS)
        r.register(self._latency)
        self._retries = Counter(
            "corps_retries", "Retries scheduled", ["agent", "event_type", "code"], registry=r
        )
        self._dead = Counter("corps_dead_letters", "Records dead-lettered", ["agent", "reason"], registry=r)
        self._failed = Counter(
            "corps_steps_failed", "StepFailed/CompensationFailed emitted", ["agent", "code"], registry=r
        )
        self._batches = Histogram(
            "corps_batch_seconds",
            "Time to commit one unit (a transaction or an offset commit)",
            ["agent", "delivery"],
            registry=r,
        )
        self._lag = Gauge(
            "corps_consumer_lag",
            "Records behind the end of the partition",
            ["agent", "topic", "partition"],
            registry=r,
        )
        self._children: dict[tuple[str, ...], Any] = {}
        self._pending: dict[tuple[Any, tuple[str, ...]], float] = {}
        self._pending_in: dict[str, int] = {}
        self._pending_out: dict[str, int] = {}
        self._server: Any = None

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.agent, *labels)
        return child

    def _count(self, metric: Any, labels: tuple[str, ...], n: float = 1) -> None:
        key = (metric, labels)
        self._pending[key] = self._pending.get(key, 0) + n

    def flush(self) -> None:
        """Apply the counts gathered since the last flush."""
        pending, self._pending = self._pending, {}
        for (metric, labels), n in pending.items():
            self._child(metric, *labels).inc(n)
        for metric, counts in ((self._in, self._pending_in), (self._out, self._pending_out)):
            if counts:
                for event_type, n in counts.items():
                    self._child(metric, event_type).inc(n)
                counts.clear()

    def event_in(self, event_type: str) -> None:
        """Count one consumed event."""
        counts = self._pending_in
        counts[event_type] = counts.get(event_type, 0) + 1

    def event_out(self, event_type: str, n: int = 1) -> None:
        """Count produced events."""
        counts = self._pending_out
        counts[event_type] = counts.get(event_type, 0) + n

    def ignored(self) -> None:
        """Count one skipped record."""
        self._count(self._ignored, ())

    def handler_latency(self, event_type: str, seconds: float) -> None:
        """Observe one handler call's duration."""
        self._latency.observe(event_type, seconds)

    def retry(self, event_type: str, code: str) -> None:
        """Count one scheduled retry."""
        self._count(self._retries, (event_type, code))

    def dead_letter(self, reason: str) -> None:
        """Count one dead letter."""
        self._count(self._dead, (reason,))

    def step_failed(self, code: str) -> None:
        """Count one StepFailed / CompensationFailed."""
        self._count(self._failed, (code,))

    def batch(self, delivery: str, seconds: float) -> None:
        """Observe one batch's duration."""
        self._child(self._batches, delivery).observe(seconds)

    def lag(self, topic: str, partition: int, records: int) -> None:
        """Set the consumer lag of one partition."""
        self._child(self._lag, topic, str(partition)).set(records)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Start the HTTP endpoint (``/metrics``); return the port it listens on."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        return int(server.server_address[1])

    def close(self) -> None:
        """Stop the HTTP endpoint, if any."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
