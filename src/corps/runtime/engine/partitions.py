"""Which partitions an engine owns, which it paused (retry records not due yet), and their lag."""

from __future__ import annotations

import logging
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

from corps.runtime.metrics import AgentMetrics

__all__ = ["TP", "Partitions"]

_log = logging.getLogger("corps.runtime.engine")
TP = tuple[str, int]


class Partitions:
    """The partition state of one consumer: assigned, paused until a time, last lag report.

    Args:
        metrics: Where the lag gauges go.
    """

    def __init__(self, metrics: AgentMetrics) -> None:
        self.metrics = metrics
        self.assigned: set[TP] = set()
        self.paused: dict[TP, float] = {}
        self._last_lag = 0.0

    def assign(self, partitions: list[TopicPartition]) -> None:
        """Record a new assignment (pauses of partitions kept stay)."""
        self.assigned = {(p.topic, p.partition) for p in partitions}
        self.paused = {tp: at for tp, at in self.paused.items() if tp in self.assigned}
        _log.info("partitions assigned", extra={"partitions": sorted(self.assigned)})

    def revoke(self, partitions: list[TopicPartition]) -> None:
        """Forget revoked partitions."""
        revoked = {(p.topic, p.partition) for p in partitions}
        self.assigned -= revoked
        for tp in revoked:
            self.paused.pop(tp, None)
        _log.info("partitions revoked", extra={"partitions": sorted(revoked)})

    def rewind(self, consumer: Consumer | None, first: dict[TP, int]) -> None:
        """Seek partitions back to the given offsets, so nothing uncommitted is skipped."""
        if consumer is None:
            return
        for (topic, partition), offset in first.items():
            if (topic, partition) in self.assigned:
                try:
                    consumer.seek(TopicPartition(topic, partition, offset))
                except KafkaException as exc:  # revoked meanwhile: the next owner reads from the commit
                    _log.debug("seek %s[%d] failed: %s", topic, partition, exc)

    def pause_until(self, consumer: Consumer, tp: TP, offset: int, due_s: float) -> None:
        """Stop fetching ``tp`` from ``offset`` on until ``due_s`` (epoch seconds)."""
        if tp not in self.assigned:
            return
        part = TopicPartition(tp[0], tp[1], offset)
        consumer.pause([part])
        consumer.seek(part)
        self.paused[tp] = due_s

    def resume_due(self, consumer: Consumer) -> None:
        """Resume the paused partitions whose time has come."""
        if not self.paused:
            return
        now = time.time()
        due = [tp for tp, at in self.paused.items() if at <= now]
        if due:
            consumer.resume([TopicPartition(t, p) for t, p in due])
            for tp in due:
                del self.paused[tp]

    def report_lag(self, consumer: Consumer | None) -> None:
        """Every few seconds, set the lag gauge of each owned partition that has been fetched from."""
        now = time.monotonic()
        if consumer is None or now - self._last_lag < 5.0 or not self.assigned:
            return
        parts = [TopicPartition(t, p) for t, p in self.assigned]
        for tp in consumer.position(parts):
            _low, high = consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:  # unknown until the partition's first fetch
                self.metrics.lag(tp.topic, tp.partition, max(0, high - tp.offset))
                self._last_lag = now
