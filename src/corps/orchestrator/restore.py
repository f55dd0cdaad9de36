"""Read a compacted changelog back: every committed value of some partitions, oldest first.

Used when partitions are assigned to the service (its state of those partitions is rebuilt from Kafka
alone) and by the operators' view. Reads ``read_committed`` up to the end of each partition
(``enable.partition.eof``, which for such a reader is the last stable offset), so an aborted
transaction's records are never restored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from corps.errors import ServiceUnavailableError
from corps.events import RawRecord

__all__ = ["read_partitions"]


def read_partitions(
    client_config: dict[str, str],
    topic: str,
    partitions: Iterable[int],
    *,
    timeout_s: float = 300.0,
    keys: frozenset[bytes] | None = None,
) -> list[RawRecord]:
    """Every committed record of ``partitions`` of ``topic``, in offset order per partition.

    Args:
        client_config: librdkafka client settings (bootstrap servers, security).
        topic: The topic to read.
        partitions: The partition indexes to read from the beginning to their current end.
        timeout_s: Give up after this long.
        keys: Keep only records with these keys (``None``: all).

    Raises:
        ServiceUnavailableError: The end of every partition was not reached within ``timeout_s``.
    """
    wanted = sorted(set(partitions))
    if not wanted:
        return []
    consumer = Consumer(
        {
            **client_config,
            "group.id": f"corps-restore-{topic}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "fetch.queue.backoff.ms": 0,
            "fetch.wait.max.ms": 10,  # the end is reached at once instead of after a 500 ms fetch wait
        }
    )
    out: list[RawRecord] = []
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in wanted])
        remaining = set(wanted)
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(
                    f"{topic}: partitions {sorted(remaining)} not read to their end within {timeout_s:.0f}s"
                )
            for message in consumer.consume(5000, 0.5):
                error = message.error()
                partition = message.partition() or 0
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        remaining.discard(partition)
                        continue
                    if error.fatal():
                        raise ServiceUnavailableError(f"{topic}: {error.str()}")
                    continue
                if keys is not None and message.key() not in keys:
                    continue
                out.append(RawRecord.from_message(cast(Any, message)))
    finally:
        consumer.close()
    return out
