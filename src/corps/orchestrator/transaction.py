"""One batch of the orchestrator service as one Kafka transaction: produce, offsets, commit.

The records of a batch (admitted, decisions, lifecycle, dead letters, changelog) and the batch's input
offsets (``send_offsets_to_transaction``) commit together or not at all. An abortable error aborts the
transaction and raises :class:`Rewind` (the caller reads the batch again); anything else is fatal for
the replica (:class:`OrchestratorError`, e.g. fenced by a newer instance with the same id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from corps.errors import CorpsError
from corps.orchestrator.topics import OutRecord

__all__ = ["TP", "OrchestratorError", "Rewind", "ServiceStats", "check_error", "commit_batch"]

TP = tuple[str, int]
_log = logging.getLogger("corps.orchestrator")


class OrchestratorError(CorpsError):
    """The service cannot go on (fenced by a newer instance, fatal client error, unreadable state)."""


class Rewind(CorpsError):
    """The batch did not commit; read its records again (after a backoff)."""

    retriable = True


@dataclass
class ServiceStats:
    """Counters of one service run."""

    batches: int = 0
    records_in: int = 0
    records_out: int = 0
    aborted: int = 0
    restored: int = 0
    evicted: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("process", "produce", "offsets", "commit"), 0.0)
    )
    """Time spent per phase of the batches: where a batch's latency goes."""


def commit_batch(
    producer: Producer,
    consumer: Consumer,
    records: Sequence[OutRecord],
    offsets: dict[TP, int],
    stats: ServiceStats,
) -> None:
    """Write ``records`` and commit ``offsets`` (the next offset to read per input) in one transaction.

    Raises:
        Rewind: The transaction was aborted (nothing of it is visible); read the batch again.
        OrchestratorError: A fatal or non-abortable error (the replica must stop).
    """
    timing = stats.seconds
    started = time.perf_counter()
    producer.begin_transaction()
    try:
        produce: Any = producer.produce  # Any: the stubs want list[tuple[str, str | bytes | None]]
        for out in records:
            try:
                # Positional (topic, value, key, partition, on_delivery, callback, timestamp, headers):
                # ~0.5 µs less per record than keywords (2-3 of them per proposed record).
                produce(out.topic, out.value, out.key, out.partition, None, None, 0, out.headers)
            except BufferError:
                _produce_when_room(producer, out)
        produced = time.perf_counter()
        timing["produce"] += produced - started
        if offsets:
            positions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
        sent = time.perf_counter()
        timing["offsets"] += sent - produced
        _commit(producer)
        timing["commit"] += time.perf_counter() - sent
        stats.records_out += len(records)
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        if error.txn_requires_abort():
            stats.aborted += 1
            producer.abort_transaction(30)
            raise Rewind(f"transaction aborted: {error.str()}") from exc
        raise OrchestratorError(
            f"transaction failed ({'fatal' if error.fatal() else 'error'}): {error.str()}"
        ) from exc


def _produce_when_room(producer: Producer, out: OutRecord) -> None:
    """Produce ``out`` once the local queue has room again (it was full)."""
    produce: Any = producer.produce
    while True:
        producer.poll(0.05)
        try:
            produce(out.topic, out.value, out.key, out.partition, None, None, 0, out.headers)
            return
        except BufferError:
            continue


def _commit(producer: Producer) -> None:
    for attempt in range(3):
        try:
            producer.commit_transaction(60)
            return
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if not error.retriable() or attempt == 2:
                raise


def check_error(message: Message) -> None:
    """Handle a consumed error event: stop on a fatal one, log the others (partition EOF silently).

    Raises:
        OrchestratorError: The consumer's error is fatal.
    """
    if (error := message.error()) is not None and error.fatal():
        raise OrchestratorError(f"fatal consumer error: {error.str()}")
    if error is not None and error.code() != KafkaError._PARTITION_EOF:
        _log.warning("consumer error: %s", error.str())
