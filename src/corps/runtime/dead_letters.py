"""Reading dead-letter topics back and replaying chosen records to where they came from."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import cast

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from corps.errors import ConfigurationError
from corps.events.errors import BrokerUnavailableError, DeliveryError
from corps.runtime.dlq import DeadLetter

__all__ = ["read_dead_letters", "replay_dead_letters"]


def read_dead_letters(
    kafka_config: dict[str, str],
    topic: str,
    *,
    select: Callable[[DeadLetter], bool] | None = None,
    timeout_s: float = 30.0,
) -> list[DeadLetter]:
    """Read a dead-letter topic from the beginning to its current end (committed records only).

    Args:
        kafka_config: librdkafka configuration of the cluster.
        topic: The dead-letter topic.
        select: Keep only letters for which this returns True.
        timeout_s: Give up reading after this long (what was read is returned).

    Raises:
        BrokerUnavailableError: The cluster cannot be reached.
        ConfigurationError: The topic does not exist.
    """
    consumer = Consumer(
        {
            **kafka_config,
            "group.id": f"corps-dlq-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        try:
            described = consumer.list_topics(topic, timeout=10).topics.get(topic)
        except KafkaException as exc:
            raise BrokerUnavailableError(f"Kafka cannot be reached: {exc}") from exc
        if described is None or described.error is not None:
            raise ConfigurationError(f"dead-letter topic {topic} does not exist")
        ends: dict[int, int] = {}
        for p in described.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                partition, offset = message.partition() or 0, message.offset() or 0
                letter = _letter(message, topic, partition, offset)
                if select is None or select(letter):
                    letters.append(letter)
                if offset + 1 >= ends.get(partition, 0):
                    ends.pop(partition, None)
            # the high watermark may sit past a transaction marker: stop at the position, not a record
            for tp in consumer.position([TopicPartition(topic, p) for p in list(ends)]):
                if tp.offset >= ends.get(tp.partition, 0):
                    ends.pop(tp.partition, None)
        return sorted(letters, key=lambda x: (x.dlq_partition, x.dlq_offset))
    finally:
        consumer.close()


def _letter(message: Message, topic: str, partition: int, offset: int) -> DeadLetter:
    key, value = message.key(), message.value()
    raw_headers = cast("list[tuple[str, bytes | str | None]]", message.headers() or [])
    headers = [(k, v.encode() if isinstance(v, str) else v) for k, v in raw_headers]
    return DeadLetter.from_record(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key.encode() if isinstance(key, str) else key,
        value=value.encode() if isinstance(value, str) else value,
        headers=headers,
    )


def replay_dead_letters(
    kafka_config: dict[str, str],
    letters: Iterable[DeadLetter],
    *,
    to_topic: str | None = None,
    on_sent: Callable[[DeadLetter], None] | None = None,
) -> int:
    """Re-publish dead letters as they were originally (key, value, headers without ``corps_dlq_*``).

    Args:
        kafka_config: librdkafka configuration of the cluster.
        letters: The letters to replay, in order.
        to_topic: Publish here instead of each letter's original topic.
        on_sent: Called after each record is queued (for progress bars).

    Returns:
        How many records the broker acknowledged.

    Raises:
        ConfigurationError: A letter does not say where it came from and no ``to_topic`` is given.
        DeliveryError: The broker did not acknowledge every record.
    """
    errors: list[str] = []

    def delivered(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(err.str())

    producer = Producer(
        {**kafka_config, "enable.idempotence": True, "acks": "all", "message.max.bytes": 64 << 20}
    )
    sent = 0
    for letter in letters:
        target = to_topic or letter.topic
        if not target:
            raise ConfigurationError(
                f"dead letter {letter.dlq_partition}:{letter.dlq_offset} has no original topic"
            )
        while True:
            try:
                headers = cast("list[tuple[str, str | bytes | None]]", letter.original_headers)
                producer.produce(target, letter.value, letter.key, headers=headers, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        sent += 1
        if on_sent is not None:
            on_sent(letter)
    remaining = producer.flush(60)
    if remaining or errors:
        raise DeliveryError(
            f"{len(errors) + remaining} of {sent} replayed records not acknowledged: {errors[:1]}"
        )
    return sent
