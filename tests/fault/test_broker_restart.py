"""Records acknowledged with acks=all survive a broker restart, graceful or kill -9."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer

from corps.dev import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.fault]

COUNT = 1000


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
def test_acked_records_survive_broker_restart(
    local_stack: LocalStack,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
    unique: Callable[[str], str],
    hard: bool,
) -> None:
    topic = create_topic("durable", partitions=3)
    acked: set[bytes] = set()
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(err)
        else:
            acked.add(msg.value())

    producer = Producer({**kafka_config, "acks": "all", "enable.idempotence": True})
    for i in range(COUNT):
        producer.produce(topic, key=f"wf-{i % 13}", value=f"record-{i}", on_delivery=on_delivery)
    assert producer.flush(60) == 0
    assert errors == []
    assert len(acked) == COUNT

    info = local_stack.restart_kafka(hard=hard)
    assert info.bootstrap_servers == kafka_config["bootstrap.servers"]

    consumer = Consumer(
        {**kafka_config, "group.id": unique("after-restart"), "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    seen: set[bytes] = set()
    deadline = time.monotonic() + 90
    try:
        while len(seen) < COUNT and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error() is not None:
                continue
            seen.add(msg.value())
    finally:
        consumer.close()
    assert seen == acked
