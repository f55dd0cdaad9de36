"""One record of the log as replay sees it: where it sits, its CloudEvents attributes, its payload.

A :class:`LogRecord` keeps the record's bytes (key, value, headers) untouched, so verification can
recompute the gate's canonical event digests from it, next to what was read out of them. Records
without a readable envelope or body are kept too, with :attr:`LogRecord.problem` saying why: a replay
reports them, it never skips them silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from corps.events import RawRecord

__all__ = ["Headers", "LogRecord"]

Headers = Sequence[tuple[str, bytes | None]]


@dataclass(slots=True)
class LogRecord:
    """One consumed record, decoded as far as it could be.

    Attributes:
        topic: Topic it was read from.
        partition: Partition it was read from.
        offset: Its offset there.
        timestamp_ms: The record's Kafka timestamp (when the producer wrote it), if any.
        key: Key bytes (corps puts the workflow id here).
        value: Value bytes (Confluent-framed Avro).
        headers: Headers in their original order.
        event_id: ``ce_id``.
        event_type: ``ce_type`` (the Avro fullname).
        source: ``ce_source`` (who emitted it: an agent's name, ``corps/gate``, ``corps/orchestrator``).
        time: ``ce_time`` (aware).
        tenant: ``ce_tenant``.
        workflow_id: ``ce_workflowid``.
        causation_id: ``ce_causationid``.
        step: ``ce_step``.
        schema_id: The writer schema id from the value's frame.
        data: The payload decoded with the writer's schema (or the reader's, when replay projects).
        problem: Why the envelope or the payload could not be read (``None`` when both were).
        attempt: The runtime's ``corps_attempt`` header (records on retry topics).
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: Headers
    event_id: str | None = None
    event_type: str | None = None
    source: str | None = None
    time: datetime | None = None
    tenant: str | None = None
    workflow_id: str | None = None
    causation_id: str | None = None
    step: str | None = None
    schema_id: int | None = None
    data: dict[str, Any] | None = None
    problem: str | None = None
    attempt: int | None = None

    @property
    def workflow(self) -> str:
        """The workflow this record belongs to: ``ce_workflowid``, else the key as text, else ``""``."""
        if self.workflow_id is not None:
            return self.workflow_id
        return self.key.decode(errors="replace") if self.key else ""

    @property
    def short_type(self) -> str:
        """The last segment of ``ce_type`` (``TicketOpened``), or ``?``."""
        return self.event_type.rpartition(".")[2] if self.event_type else "?"

    def header_map(self) -> Mapping[str, bytes | None]:
        """Headers by name (the last value wins)."""
        return dict(self.headers)

    def raw(self) -> RawRecord:
        """The record as the events layer sees it (for :class:`~corps.events.EventCodec` and digests)."""
        return RawRecord(
            self.topic,
            self.partition,
            self.offset,
            self.key,
            self.value,
            tuple(self.headers),
            self.timestamp_ms,
        )

    def describe(self) -> str:
        """``topic[partition]@offset``."""
        return f"{self.topic}[{self.partition}]@{self.offset}"

    def position(self) -> tuple[str, int, int]:
        """``(topic, partition, offset)``: where the record sits, a total order within one read."""
        return (self.topic, self.partition, self.offset)
