"""The broker is real: records go in and come out again through both Python clients corps uses."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, KafkaError, Message, Producer

from corps.dev import StackInfo

pytestmark = pytest.mark.integration

COUNT = 200


def _produce(kafka_config: dict[str, str], topic: str, count: int) -> list[tuple[bytes, bytes, int]]:
    """Produce ``count`` keyed records with acks=all; return (key, value, partition) of each acked one."""
    acked: list[tuple[bytes, bytes, int]] = []
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(err)
        else:
            acked.append((msg.key(), msg.value(), msg.partition()))

    producer = Producer({**kafka_config, "acks": "all", "enable.idempotence": True})
    for i in range(count):
        producer.produce(topic, key=f"key-{i % 7}", value=f"value-{i}", on_delivery=on_delivery)
    assert producer.flush(60) == 0
    assert errors == []
    return acked


def _consume_all(kafka_config: dict[str, str], topic: str, group: str, count: int) -> list[Message]:
    consumer = Consumer({**kafka_config, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    received: list[Message] = []
    deadline = time.monotonic() + 60
    try:
        while len(received) < count and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            received.append(msg)
    finally:
        consumer.close()
    return received


def test_confluent_kafka_round_trip(
    kafka_config: dict[str, str], create_topic: Callable[..., str], unique: Callable[[str], str]
) -> None:
    topic = create_topic("roundtrip", partitions=3)
    acked = _produce(kafka_config, topic, COUNT)
    received = _consume_all(kafka_config, topic, unique("group"), COUNT)

    assert sorted((m.key(), m.value()) for m in received) == sorted((k, v) for k, v, _ in acked)
    # one key, one partition, in production order
    for key in {m.key() for m in received}:
        values = [int(m.value().split(b"-")[1]) for m in received if m.key() == key]
        assert values == sorted(values)
        assert len({m.partition() for m in received if m.key() == key}) == 1


@pytest.mark.asyncio
async def test_aiokafka_round_trip(
    stack: StackInfo, create_topic: Callable[..., str], unique: Callable[[str], str]
) -> None:
    topic = create_topic("aio", partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for i in range(COUNT):
            await producer.send(topic, key=f"key-{i % 7}".encode(), value=f"value-{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.bootstrap_servers,
        group_id=unique("group"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + 60
        while len(values) < COUNT and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            values.extend(record.value for records in batch.values() for record in records)
    finally:
        await consumer.stop()
    assert sorted(values) == sorted(f"value-{i}".encode() for i in range(COUNT))


@pytest.mark.asyncio
async def test_confluent_producer_aiokafka_consumer_agree(
    stack: StackInfo,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
    unique: Callable[[str], str],
) -> None:
    topic = create_topic("cross", partitions=3)
    acked = _produce(kafka_config, topic, 50)

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.bootstrap_servers,
        group_id=unique("group"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[tuple[bytes | None, bytes | None, int]] = []
    try:
        deadline = time.monotonic() + 60
        while len(seen) < len(acked) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            seen.extend((r.key, r.value, r.partition) for records in batch.values() for r in records)
    finally:
        await consumer.stop()
    # Same partitioner on both sides is not guaranteed, but the broker's placement is what both see.
    assert sorted(seen) == sorted(acked)


def test_topics_are_never_auto_created(
    kafka_config: dict[str, str], admin: object, unique: Callable[[str], str]
) -> None:
    missing = unique("missing")
    producer = Producer({**kafka_config, "message.timeout.ms": 3000})
    errors: list[KafkaError] = []
    producer.produce(missing, value=b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert len(errors) == 1
    assert errors[0] is not None
    assert errors[0].code() in {
        KafkaError._UNKNOWN_TOPIC,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._MSG_TIMED_OUT,
    }
