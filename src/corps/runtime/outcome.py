"""What processing a record yields: its status and the records to produce, plus deterministic output ids."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import NamedTuple

from corps.runtime.eager import uuid5

__all__ = ["Header", "Out", "Outcome", "Status", "output_id"]

_NS_BYTES = uuid.UUID("6f0c6d2e-5b1e-4c61-9a57-2f6c0c6b7a11").bytes
Header = tuple[str, bytes | None]


class Status(StrEnum):
    """What became of a record."""

    HANDLED = "handled"
    IGNORED = "ignored"
    RETRY = "retry"
    FAILED = "failed"
    DEAD_LETTER = "dead_letter"


class Out(NamedTuple):
    """One record to produce (a named tuple: made once per output, so it must be cheap)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[Header]


class Outcome:
    """The result of processing one record: its status and the records to produce, in order.

    Args:
        status: What became of the record.
        records: What to produce for it, in order.
        detail: Why (for retries, failures and dead letters).
    """

    __slots__ = ("detail", "records", "status")

    def __init__(self, status: Status, records: list[Out] | None = None, detail: str = "") -> None:
        self.status = status
        self.records: list[Out] = [] if records is None else records
        self.detail = detail

    def __repr__(self) -> str:
        return f"Outcome({self.status!s}, {len(self.records)} records, {self.detail!r})"


def output_id(cause_id: str, agent: str, n: int | str) -> str:
    """Deterministic id (a UUID5) of the ``n``-th event ``agent`` emits for input ``cause_id``."""
    return uuid5(_NS_BYTES, f"{cause_id}/{agent}/{n}")
