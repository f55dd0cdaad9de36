"""The agent registry on Kafka: replicas announce themselves and beat; ``corps agents`` reads it back.

The registry topic is compacted and keyed ``<agent>/<replica id>``: its latest record per key is the
replica's latest announcement, and a tombstone (a null value) written on a clean shutdown removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from pydantic import ValidationError

from corps.events.errors import BrokerUnavailableError
from corps.runtime.announcement import Announcement

__all__ = ["Presence", "read_announcements"]

_log = logging.getLogger("corps.runtime.presence")


class Presence:
    """Publishes one replica's announcement, then a heartbeat every interval, then a tombstone.

    Args:
        announcement: What to announce (``heartbeat_at`` is refreshed at every beat).
        kafka_config: librdkafka configuration of the cluster.
        topic: The compacted registry topic.
        clock: Wall clock (injected for tests).
    """

    def __init__(
        self,
        announcement: Announcement,
        kafka_config: dict[str, str],
        topic: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.announcement = announcement
        self.topic = topic
        self._clock = clock
        self._producer = Producer({**kafka_config, "enable.idempotence": True, "linger.ms": 0})
        self._task: asyncio.Task[None] | None = None
        self.beats = 0

    def _publish(self, value: bytes | None) -> None:
        self._producer.produce(self.topic, value, self.announcement.key.encode())
        self._producer.poll(0)

    def beat(self) -> None:
        """Publish the announcement with a fresh ``heartbeat_at``."""
        self.announcement = self.announcement.beat(datetime.fromtimestamp(self._clock(), UTC))
        self._publish(self.announcement.model_dump_json().encode())
        self.beats += 1

    async def start(self) -> None:
        """Announce (waiting for the broker's acknowledgement) and start beating."""
        self.beat()
        await asyncio.to_thread(self._producer.flush, 10)
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat-{self.announcement.key}")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.announcement.heartbeat_interval_s)
            try:
                self.beat()
            except (KafkaException, BufferError) as exc:  # a missed beat; the next one may get through
                _log.warning("heartbeat failed: %s", exc)

    async def stop(self) -> None:
        """Stop beating and leave: publish a tombstone and wait for it to be acknowledged."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._publish(None)
        await asyncio.to_thread(self._producer.flush, 10)


def read_announcements(
    kafka_config: dict[str, str], topic: str, timeout_s: float = 10.0
) -> list[Announcement]:
    """Read the registry topic to its end; return the latest live announcement per replica.

    Raises:
        BrokerUnavailableError: The cluster cannot be reached.
    """
    consumer = Consumer(
        {
            **kafka_config,
            "group.id": f"corps-agents-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        try:
            metadata = consumer.list_topics(topic, timeout=timeout_s)
        except KafkaException as exc:
            raise BrokerUnavailableError(f"Kafka cannot be reached: {exc}") from exc
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return []
        parts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in described.partitions]
        ends = {}
        for p in parts:
            low, high = consumer.get_watermark_offsets(p, timeout=timeout_s)
            if high > low:
                ends[p.partition] = high
        consumer.assign(parts)
        latest: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                key = message.key()
                if key is not None:
                    latest[key] = message.value()
                offset, partition = message.offset() or 0, message.partition() or 0
                if offset + 1 >= ends.get(partition, 0):
                    ends.pop(partition, None)
        found = []
        for value in latest.values():
            if value is None:
                continue
            try:
                found.append(Announcement.model_validate_json(value))
            except ValidationError:
                _log.warning("skipping an unreadable registry record")
        return found
    finally:
        consumer.close()
