"""Kafka records as the event layer sees them: raw when consumed, encoded when about to be produced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Headers", "OutgoingRecord", "RawRecord"]

Headers = Sequence[tuple[str, bytes | None]]
"""Kafka headers in order, as (name, value) pairs; a value may be ``None``."""


class _KafkaMessage(Protocol):
    """The part of ``confluent_kafka.Message`` that :meth:`RawRecord.from_message` reads."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | str | None: ...
    def value(self) -> bytes | str | None: ...
    def headers(self) -> list[tuple[str, bytes | None]] | None: ...
    def timestamp(self) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One consumed record, untouched, so it can be dead-lettered byte for byte.

    Attributes:
        topic: Topic it was read from.
        partition: Partition it was read from.
        offset: Its offset in that partition.
        key: Message key bytes (corps puts the workflow id here).
        value: Message value bytes (Confluent-framed Avro for corps events).
        headers: Headers in their original order.
        timestamp_ms: Record timestamp, when known.
    """

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp_ms: int | None = None

    @classmethod
    def from_message(cls, message: _KafkaMessage) -> RawRecord:
        """Wrap a message returned by ``confluent_kafka.Consumer.poll``/``consume``."""
        ts_type, ts = message.timestamp()
        key, value = message.key(), message.value()
        return cls(
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            key.encode() if isinstance(key, str) else key,
            value.encode() if isinstance(value, str) else value,
            message.headers() or (),
            ts if ts_type else None,
        )

    def header(self, name: str) -> bytes | None:
        """Return the last value of header ``name``, or ``None``."""
        for hname, value in reversed(self.headers):
            if hname == name:
                return value
        return None

    def describe(self) -> str:
        """Return ``topic[partition]@offset``, for messages and logs."""
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """An encoded event ready for ``Producer.produce(topic, value, key, headers=...)``."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    def produce_kwargs(self) -> dict[str, Any]:
        """Return keyword arguments for ``confluent_kafka.Producer.produce``."""
        return {"topic": self.topic, "key": self.key, "value": self.value, "headers": self.headers}
