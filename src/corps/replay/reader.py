"""Read a range of the log with confluent-kafka: offsets or a time range, ``read_committed``.

:meth:`LogReader.plan` turns topics and a :class:`ReplayRange` into one :class:`Span` per partition
(start offset, end offset), resolving times with the broker's time index (``offsets_for_times``) and
taking the end of each partition *now*, so a replay reads a fixed range even while the log grows: two
replays of the same range read the same records. :meth:`LogReader.read` then yields the records in
batches; with ``follow`` it keeps tailing until told to stop. Only committed records are read
(``isolation.level=read_committed``): an aborted transaction of the gate is never replayed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from corps.replay.errors import ReplayInputError, ReplayUnavailableError

__all__ = ["LogReader", "ReplayRange", "Span"]


@dataclass(frozen=True)
class ReplayRange:
    """Which part of the log to replay (the same on every partition).

    Attributes:
        from_offset: First offset of every partition (default: the earliest still kept).
        from_time: First record at or after this time (record timestamps), instead of ``from_offset``.
        to_time: Stop before the first record at or after this time (default: the end as of now).
        follow: Keep reading new records after the end (``to_time`` must be unset).
    """

    from_offset: int | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    follow: bool = False

    def __post_init__(self) -> None:
        if self.from_offset is not None and self.from_time is not None:
            raise ReplayInputError("give --from-offset or --from-time, not both")
        if self.from_offset is not None and self.from_offset < 0:
            raise ReplayInputError(f"--from-offset must be >= 0, got {self.from_offset}")
        for name, moment in (("--from-time", self.from_time), ("--to-time", self.to_time)):
            if moment is not None and moment.tzinfo is None:
                raise ReplayInputError(f"{name} must carry a time zone (e.g. 2025-01-31T12:00:00Z)")
        if self.from_time and self.to_time and self.to_time <= self.from_time:
            raise ReplayInputError("--to-time must be after --from-time")
        if self.follow and self.to_time is not None:
            raise ReplayInputError("--follow reads on without an end: drop --to-time")

    @property
    def complete(self) -> bool:
        """True when the range starts at the beginning of the kept log (nothing skipped at the start)."""
        return self.from_offset in (None, 0) and self.from_time is None

    def describe(self) -> dict[str, Any]:
        """The range as given, JSON-ready."""
        return {
            "from_offset": self.from_offset,
            "from_time": self.from_time.isoformat() if self.from_time else None,
            "to_time": self.to_time.isoformat() if self.to_time else None,
            "follow": self.follow,
        }


@dataclass(frozen=True, order=True)
class Span:
    """The offsets of one partition a replay reads: ``[start, end)`` (``end`` is ``None`` when following).

    Attributes:
        topic: The topic.
        partition: The partition.
        start: First offset read.
        end: First offset not read (``None``: no end).
        earliest: The partition's earliest kept offset (retention may have deleted what came before).
    """

    topic: str
    partition: int
    start: int
    end: int | None
    earliest: int = field(default=0, compare=False)

    @property
    def size(self) -> int:
        """How many offsets the span covers (0 when following)."""
        return 0 if self.end is None else max(0, self.end - self.start)


class LogReader:
    """Reads spans of topics with one consumer that never commits.

    Args:
        client_config: librdkafka settings (bootstrap servers, security).
        batch: Most records per ``consume`` call.
        timeout_s: Give up when no record and no end of partition arrives for this long.
    """

    def __init__(self, client_config: dict[str, str], *, batch: int = 5000, timeout_s: float = 120.0) -> None:
        self._config = dict(client_config)
        self._batch = batch
        self._timeout = timeout_s

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                **self._config,
                "group.id": f"corps-replay-{uuid.uuid4().hex[:12]}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "fetch.queue.backoff.ms": 0,
            }
        )

    def plan(self, topics: Sequence[str], span: ReplayRange, *, optional: Collection[str] = ()) -> list[Span]:
        """Resolve ``span`` on every partition of ``topics`` (sorted by topic and partition; empty ones too).

        Topics in ``optional`` are skipped when they do not exist.

        Raises:
            ReplayInputError: A topic does not exist.
            ReplayUnavailableError: The broker does not answer.
        """
        consumer = self._consumer()
        try:
            return self._plan(consumer, topics, span, frozenset(optional))
        except KafkaException as exc:
            raise ReplayUnavailableError(f"cannot plan the replay: {exc}") from exc
        finally:
            consumer.close()

    def _plan(
        self, consumer: Consumer, topics: Sequence[str], span: ReplayRange, optional: frozenset[str]
    ) -> list[Span]:
        spans: list[Span] = []
        for topic in sorted(set(topics)):
            meta = consumer.list_topics(topic, timeout=self._timeout).topics.get(topic)
            if meta is None or meta.error is not None:
                if topic in optional:
                    continue
                why = meta.error.str() if meta is not None and meta.error is not None else "unknown topic"
                raise ReplayInputError(f"topic {topic} cannot be read ({why}): was the topology applied?")
            for partition in sorted(meta.partitions):
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self._timeout, cached=False
                )
                start = self._start(consumer, topic, partition, span, low, high)
                end = None if span.follow else self._end(consumer, topic, partition, span, high)
                spans.append(Span(topic, partition, start, max(start, end) if end is not None else None, low))
        return spans

    def _start(
        self, consumer: Consumer, topic: str, partition: int, span: ReplayRange, low: int, high: int
    ) -> int:
        if span.from_time is not None:
            return self._at_time(consumer, topic, partition, span.from_time, high)
        return min(max(low, span.from_offset or 0), high)

    def _end(self, consumer: Consumer, topic: str, partition: int, span: ReplayRange, high: int) -> int:
        if span.to_time is not None:
            return self._at_time(consumer, topic, partition, span.to_time, high)
        return high

    def _at_time(self, consumer: Consumer, topic: str, partition: int, moment: datetime, high: int) -> int:
        ms = int(moment.timestamp() * 1000)
        found = consumer.offsets_for_times([TopicPartition(topic, partition, ms)], timeout=self._timeout)
        offset = found[0].offset if found else -1
        return high if offset < 0 else offset

    def read(
        self,
        spans: Sequence[Span],
        *,
        stop: threading.Event | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[list[Any]]:
        """Yield the records of ``spans`` in batches (``confluent_kafka.Message`` objects, no errors).

        Records of one partition come in offset order; partitions interleave. Without an end (follow)
        it reads until ``stop`` is set.

        Raises:
            ReplayUnavailableError: Nothing arrived for ``timeout_s`` before the end, or a fatal error.
        """
        spans = [s for s in spans if s.end is None or s.start < s.end]
        if not spans:
            return
        consumer = self._consumer()
        ends = {(s.topic, s.partition): s.end for s in spans}
        open_ = set(ends)
        try:
            consumer.assign([TopicPartition(s.topic, s.partition, s.start) for s in spans])
            last = time.monotonic()
            while True:
                if stop is not None and stop.is_set():
                    return
                messages = consumer.consume(self._batch, 0.5)
                kept: list[Any] = []
                finished: list[TopicPartition] = []
                for message in messages:
                    tp = (message.topic() or "", message.partition() or 0)
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            if ends.get(tp) is not None and tp in open_:
                                open_.discard(tp)
                                finished.append(TopicPartition(*tp))
                            continue
                        if error.fatal():
                            raise ReplayUnavailableError(f"fatal consumer error: {error.str()}")
                        continue
                    end = ends.get(tp)
                    offset = message.offset() or 0
                    if end is not None and offset >= end:
                        if tp in open_:
                            open_.discard(tp)
                            finished.append(TopicPartition(*tp))
                        continue
                    kept.append(message)
                    if end is not None and offset >= end - 1 and tp in open_:
                        open_.discard(tp)
                        finished.append(TopicPartition(*tp))
                if finished:
                    consumer.pause(finished)
                if messages:
                    last = time.monotonic()
                elif open_ and time.monotonic() - last > self._timeout:
                    where = ", ".join(f"{t}[{p}]" for t, p in sorted(open_))
                    raise ReplayUnavailableError(
                        f"no records for {self._timeout:.0f}s before the end of {where}"
                    )
                if kept:
                    if on_batch is not None:
                        on_batch(len(kept))
                    yield kept
                if not open_ and all(end is not None for end in ends.values()):
                    return
        except KafkaException as exc:
            raise ReplayUnavailableError(f"cannot read the log: {exc}") from exc
        finally:
            consumer.close()
