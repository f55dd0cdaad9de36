"""Benchmark payloads and the client settings every raw baseline uses (stated once, reported in JSON).

A payload is exactly :data:`VALUE_BYTES` long: a 17-byte header (sequence number, send time from the
system-wide monotonic clock in ns, a flag) and random padding. ``time.monotonic_ns`` is
``CLOCK_MONOTONIC`` on Linux, shared by all processes of one machine, so a latency measured in another
process is valid without any clock synchronisation (it would not be across machines).
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from typing import Final

from confluent_kafka import Producer

__all__ = [
    "CONSUMER",
    "FLAG_MEASURED",
    "FLAG_WARMUP",
    "HEADER",
    "LATENCY_PRODUCER",
    "SOCKET",
    "THROUGHPUT_PRODUCER",
    "VALUE_BYTES",
    "DeliveryErrors",
    "FilledTopic",
    "consumer_config",
    "decode",
    "encode",
    "fill_topic",
    "new_producer",
    "produce_flat_out",
    "producer_config",
    "workflow_key",
]

VALUE_BYTES: Final = 256
HEADER: Final = struct.Struct("<QqB")
FLAG_MEASURED: Final = 0
FLAG_WARMUP: Final = 1
_PAD: Final = os.urandom(VALUE_BYTES - HEADER.size)

# Every client disables Nagle's algorithm, as the Java clients and asyncio (hence aiokafka) do by default;
# librdkafka leaves it on unless told.
SOCKET: Final[dict[str, str | int | bool]] = {"socket.nagle.disable": True}

# Throughput settings: acks=all with the idempotent producer (exactly what corps runs), batches of up
# to 1 MB or 10,000 records, lingering 10 ms to fill them; no compression (random payloads).
THROUGHPUT_PRODUCER: Final[dict[str, str | int | bool]] = {
    **SOCKET,
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 10,
    "batch.size": 1_000_000,
    "batch.num.messages": 10_000,
    "queue.buffering.max.messages": 500_000,
    "compression.type": "none",
    "delivery.report.only.error": True,
}

# Latency settings: the same guarantees, but no lingering (a record is sent as soon as it is produced;
# librdkafka still batches whatever queued up while a request was in flight).
LATENCY_PRODUCER: Final[dict[str, str | int | bool]] = {
    **SOCKET,
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 0,
    "compression.type": "none",
    "delivery.report.only.error": True,
}


# Consumers read from the beginning of fresh topics, without committing (the relay hops turn auto-commit
# on). ``fetch.queue.backoff.ms=0``: by default librdkafka stops fetching a partition for a whole second
# once its prefetch queue passes ``queued.min.messages``, and a fast reader then sits idle; measured here,
# that alone made a raw consumer 3-6x slower and erratic (4 s wall time for 0.6 s of CPU time). The rest
# is librdkafka's default: fetch.min.bytes=1, fetch.wait.max.ms=500, queued.min.messages=100000,
# max.partition.fetch.bytes=1 MiB.
CONSUMER: Final[dict[str, str | int | bool]] = {
    **SOCKET,
    "fetch.queue.backoff.ms": 0,
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": False,
}


def encode(seq: int, flag: int = FLAG_MEASURED, sent_ns: int | None = None) -> bytes:
    """Return a :data:`VALUE_BYTES`-byte payload stamped with ``sent_ns`` (default: now)."""
    stamp = time.monotonic_ns() if sent_ns is None else sent_ns
    return HEADER.pack(seq, stamp, flag) + _PAD


def decode(value: bytes) -> tuple[int, int, int]:
    """Return ``(seq, sent_ns, flag)`` from a payload made by :func:`encode`."""
    seq, sent_ns, flag = HEADER.unpack_from(value)
    return int(seq), int(sent_ns), int(flag)


def workflow_key(seq: int, workflows: int = 1024) -> bytes:
    """Return the message key for ``seq``: one of ``workflows`` workflow ids, as corps keys its events."""
    return b"wf-%08d" % (seq % workflows)


def producer_config(base: dict[str, str], preset: dict[str, str | int | bool]) -> dict[str, object]:
    """Merge the broker settings with a producer preset."""
    return {**base, **preset}


def consumer_config(base: dict[str, str], group_id: str) -> dict[str, object]:
    """Return a consumer configuration: :data:`CONSUMER` plus the broker settings and ``group_id``."""
    return {**base, **CONSUMER, "group.id": group_id}


class DeliveryErrors:
    """Counts failed deliveries (the presets report only errors, so success costs no callback)."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None

    def __call__(self, err: object, _msg: object) -> None:
        if err is not None:
            self.count += 1
            if self.first is None:
                self.first = str(err)


def new_producer(
    base: dict[str, str], preset: dict[str, str | int | bool] = THROUGHPUT_PRODUCER
) -> tuple[Producer, DeliveryErrors]:
    """Return a producer with ``preset`` and the error counter wired to its delivery reports."""
    errors = DeliveryErrors()
    return Producer({**producer_config(base, preset), "on_delivery": errors}), errors


def produce_flat_out(
    producer: Producer, errors: DeliveryErrors, topic: str, count: int, *, keyed: bool = False
) -> float:
    """Produce ``count`` payloads to ``topic`` as fast as possible and wait until all are acknowledged.

    Returns:
        The seconds from the first ``produce`` call to the end of ``flush`` (every record acked).

    Raises:
        RuntimeError: a record was not delivered, or ``flush`` timed out.
    """
    produce = producer.produce
    poll = producer.poll
    value = encode(0)
    failed_before = errors.count
    started = time.perf_counter()
    for seq in range(count):
        key = workflow_key(seq) if keyed else None
        while True:
            try:
                produce(topic, value, key)
                break
            except BufferError:
                poll(0.005)
        if seq & 0x3FF == 0:
            poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if remaining or errors.count > failed_before:
        raise RuntimeError(
            f"{topic}: {remaining} records unflushed, {errors.count - failed_before} failed deliveries "
            f"({errors.first})"
        )
    return elapsed


def fill_topic(base: dict[str, str], topic: str, count: int, *, keyed: bool = False) -> float:
    """Fill ``topic`` with ``count`` payloads using the throughput preset; returns the seconds taken."""
    producer, errors = new_producer(base)
    return produce_flat_out(producer, errors, topic, count, keyed=keyed)


@dataclass(frozen=True)
class FilledTopic:
    """A topic a benchmark filled, left in ``BenchContext.shared`` for a later one to read."""

    name: str
    partitions: int
    messages: int
