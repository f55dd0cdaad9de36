"""Dead letters: poison records parked with the reason in headers and their original bytes intact.

A dead letter is the original record — key, value and every original header byte for byte — plus
``corps_dlq_*`` headers saying why and where it came from. ``corps dlq replay`` strips those headers
and re-publishes the record to its original topic once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DeadLetter", "DeadLetterReason", "dead_letter_headers", "strip_dead_letter_headers"]

PREFIX = "corps_dlq_"
H_REASON = "corps_dlq_reason"
H_DETAIL = "corps_dlq_detail"
H_AGENT = "corps_dlq_agent"
H_TOPIC = "corps_dlq_topic"
H_PARTITION = "corps_dlq_partition"
H_OFFSET = "corps_dlq_offset"
H_TIME = "corps_dlq_time_ms"

_MAX_DETAIL = 2000


class DeadLetterReason(StrEnum):
    """Why a record was dead-lettered (the value of the ``corps_dlq_reason`` header).

    The decode reasons are the ``reason`` codes of :class:`corps.events.errors.RecordError` leaves.
    """

    UNKNOWN_MAGIC_BYTE = "unknown-magic-byte"
    UNKNOWN_SCHEMA_ID = "unknown-schema-id"
    TRUNCATED_BODY = "truncated-body"
    MALFORMED_BODY = "malformed-body"
    INCOMPATIBLE_SCHEMA = "incompatible-schema"
    DECODE_ERROR = "decode-error"
    BAD_ENVELOPE = "bad-envelope"
    UNEXPECTED_EVENT_TYPE = "unexpected-event-type"
    RECORD_TOO_LARGE = "record-too-large"
    BAD_RETRY_HEADERS = "bad-retry-headers"


Headers = Sequence[tuple[str, bytes | None]]


def dead_letter_headers(
    original: Headers,
    *,
    reason: DeadLetterReason | str,
    detail: str,
    agent: str,
    topic: str,
    partition: int,
    offset: int,
    time_ms: int,
) -> list[tuple[str, bytes | None]]:
    """Return the headers of a dead letter: the original headers followed by the ``corps_dlq_*`` ones.

    Args:
        original: The record's original headers (kept in order, byte for byte).
        reason: Why the record is dead-lettered.
        detail: A human-readable explanation (truncated to 2,000 bytes).
        agent: The agent that gave up on the record.
        topic: Topic the record was read from.
        partition: Partition the record was read from.
        offset: Offset of the record.
        time_ms: When it was dead-lettered, epoch milliseconds.
    """
    return [
        *strip_dead_letter_headers(original),
        (H_REASON, str(reason).encode()),
        (H_DETAIL, detail.encode(errors="replace")[:_MAX_DETAIL]),
        (H_AGENT, agent.encode()),
        (H_TOPIC, topic.encode()),
        (H_PARTITION, str(partition).encode()),
        (H_OFFSET, str(offset).encode()),
        (H_TIME, str(time_ms).encode()),
    ]


def strip_dead_letter_headers(headers: Headers) -> list[tuple[str, bytes | None]]:
    """Return ``headers`` without any ``corps_dlq_*`` header (what a replay re-publishes)."""
    return [(k, v) for k, v in headers if not k.startswith(PREFIX)]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record read back from a dead-letter topic.

    Attributes:
        dlq_topic: The dead-letter topic.
        dlq_partition: Partition within it.
        dlq_offset: Offset within it.
        reason: The reason code (kept as text: a newer runtime may write codes this one lacks).
        detail: The explanation.
        agent: The agent that dead-lettered it.
        topic: Original topic.
        partition: Original partition.
        offset: Original offset.
        time_ms: When it was dead-lettered.
        key: Original key bytes.
        value: Original value bytes.
        headers: All headers as stored (original ones plus ``corps_dlq_*``).
    """

    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    reason: str
    detail: str
    agent: str
    topic: str
    partition: int
    offset: int
    time_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

    @property
    def original_headers(self) -> list[tuple[str, bytes | None]]:
        """The record's headers as they were before it was dead-lettered."""
        return strip_dead_letter_headers(self.headers)

    @classmethod
    def from_record(
        cls,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
    ) -> DeadLetter:
        """Parse a record of a dead-letter topic; missing corps headers read as empty / -1."""
        found = {k: v or b"" for k, v in headers if k.startswith(PREFIX)}

        def text(name: str) -> str:
            return found.get(name, b"").decode(errors="replace")

        def number(name: str) -> int:
            try:
                return int(text(name))
            except ValueError:
                return -1

        return cls(
            dlq_topic=topic,
            dlq_partition=partition,
            dlq_offset=offset,
            reason=text(H_REASON),
            detail=text(H_DETAIL),
            agent=text(H_AGENT),
            topic=text(H_TOPIC),
            partition=number(H_PARTITION),
            offset=number(H_OFFSET),
            time_ms=number(H_TIME),
            key=key,
            value=value,
            headers=tuple(headers),
        )
