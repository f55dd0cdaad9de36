"""Small helpers for the event-layer integration tests: read a whole topic, make a codec."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from corps.events import RawRecord


def read_topic(
    kafka_config: dict[str, str], topic: str, count: int, timeout_s: float = 60.0
) -> list[RawRecord]:
    """Read ``count`` records of ``topic`` from the beginning (every partition, no consumer group join)."""
    consumer = Consumer(
        {
            **kafka_config,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[RawRecord] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < count and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is None:
                    records.append(RawRecord.from_message(message))
        return records
    finally:
        consumer.close()


def topic_is_empty(kafka_config: dict[str, str], topic: str) -> bool:
    """True when no partition of ``topic`` holds a record."""
    consumer = Consumer({**kafka_config, "group.id": f"probe-{uuid.uuid4().hex[:8]}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                return False
        return True
    finally:
        consumer.close()
