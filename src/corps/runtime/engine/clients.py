"""The engine's confluent-kafka clients: their configuration and the commit of one unit.

A unit commits in one of two ways. ``exactly_once``: its outputs and its input offsets in one Kafka
transaction (``send_offsets_to_transaction`` with the consumer's group metadata, KIP-447).
``at_least_once``: a flush (every output acknowledged), then a synchronous offset commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from corps.errors import CorpsError
from corps.runtime.settings import AgentSettings

__all__ = ["EngineError", "Rewind", "commit_unit", "consumer_config", "producer_config"]


class EngineError(CorpsError):
    """The engine cannot go on (fenced producer, fatal client error)."""


class Rewind(CorpsError):
    """A unit did not commit; its partitions are rewound and its records will be read again."""

    retriable = True


def consumer_config(settings: AgentSettings, group_id: str, client_id: str) -> dict[str, Any]:
    """The consumer's configuration: manual commits, ``read_committed``, settings' overrides last."""
    return {
        **settings.kafka.client_config(),
        "group.id": group_id,
        "client.id": client_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.partition.eof": False,
        "fetch.queue.backoff.ms": 0,
        "session.timeout.ms": settings.session_timeout_ms,
        **({"group.instance.id": settings.instance_id} if settings.instance_id else {}),
        **settings.consumer_config,
    }


def producer_config(
    settings: AgentSettings,
    client_id: str,
    transactional_id: str | None,
    on_delivery: Callable[[KafkaError | None, Message], None],
) -> dict[str, Any]:
    """The producer's configuration: idempotent, ``acks=all``, transactional when given an id.

    ``retry.backoff.ms`` is 5 ms (librdkafka's default is 100): a transaction begun right after the
    previous commit meets ``CONCURRENT_TRANSACTIONS`` while the broker still writes that commit's
    markers, and librdkafka retries it after the backoff, so the default made the backoff most of a
    low-rate hop's latency (the Java client uses 20 ms for this case). Doubling up to
    ``retry.backoff.max.ms`` (100 ms) keeps an unavailable broker from being hammered.
    """
    return {
        **settings.kafka.client_config(),
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "retry.backoff.ms": 5,
        "retry.backoff.max.ms": 100,
        "message.max.bytes": settings.topics.dead_letter_max_bytes + 65536,
        "delivery.report.only.error": True,
        "on_delivery": on_delivery,
        **({"transactional.id": transactional_id} if transactional_id else {}),
        "transaction.timeout.ms": settings.transaction_timeout_ms,
        **settings.producer_config,
    }


def commit_unit(
    producer: Producer,
    consumer: Consumer,
    offsets: list[TopicPartition],
    *,
    exactly_once: bool,
    delivery_errors: list[str],
) -> None:
    """Commit a unit's outputs and offsets (blocking: the engine's executor thread or a rebalance callback).

    Args:
        producer: The producer that wrote the unit's outputs (in its open transaction if exactly-once).
        consumer: The consumer whose offsets commit.
        offsets: The next offset to read of each partition the unit consumed from.
        exactly_once: Commit a transaction (else flush, then commit the offsets).
        delivery_errors: Filled by the producer's delivery callback (at-least-once); cleared here first.

    Raises:
        Rewind: It did not commit (the caller aborts it and reads its records again).
        EngineError: The producer is fenced or failed fatally.
    """
    if exactly_once:
        try:
            if offsets:
                producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(60)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.txn_requires_abort():
                raise Rewind(f"transaction must be aborted: {error.str()}") from exc
            kind = "fatal" if error.fatal() else "error"
            raise EngineError(f"transaction failed ({kind}): {error.str()}") from exc
        return
    delivery_errors.clear()
    remaining = producer.flush(60)
    if remaining or delivery_errors:
        first = delivery_errors[0] if delivery_errors else f"{remaining} records unsent"
        raise Rewind(f"delivery failed: {first}")
    if offsets:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise Rewind(f"offset commit failed: {exc}") from exc
