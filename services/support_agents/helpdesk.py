"""A stand-in for the helpdesk and payment systems the agents talk to: one SQLite file on this machine.

The triage agent files each ticket's facts here; the refunds agent pays and reverses refunds here;
the sender looks up the customer's address here. Every write is an idempotent upsert keyed by ticket or
refund id, so a handler that runs again after a crash or a retry changes nothing twice.
The file is ``$CORPS_HELPDESK_DB``, else ``.corps/helpdesk.sqlite3`` under the working directory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Helpdesk", "TicketFacts", "helpdesk"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY, email TEXT NOT NULL, refund_amount_cents INTEGER, subject TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
    reversed INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class TicketFacts:
    """What the helpdesk knows about a ticket."""

    ticket_id: str
    email: str
    refund_amount_cents: int | None
    subject: str


class Helpdesk:
    """The helpdesk / payment stand-in (thread-safe; one connection per instance)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def file_ticket(self, facts: TicketFacts) -> None:
        """Record a ticket's facts (again: same facts, no change)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tickets VALUES (?, ?, ?, ?)",
                (facts.ticket_id, facts.email, facts.refund_amount_cents, facts.subject),
            )

    def ticket(self, ticket_id: str) -> TicketFacts | None:
        """The facts of a ticket, or ``None`` when it was never filed."""
        with self._lock:
            row = self._db.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return None if row is None else TicketFacts(row[0], row[1], row[2], row[3])

    def pay_refund(self, refund_id: str, ticket_id: str, amount_cents: int) -> None:
        """Pay a refund once: paying the same refund id again is a no-op."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO refunds VALUES (?, ?, ?, 0)", (refund_id, ticket_id, amount_cents)
            )

    def reverse_refund(self, refund_id: str) -> bool:
        """Take a refund back; return whether it had been paid (reversing twice is a no-op)."""
        with self._lock:
            row = self._db.execute(
                "SELECT reversed FROM refunds WHERE refund_id = ?", (refund_id,)
            ).fetchone()
            self._db.execute("UPDATE refunds SET reversed = 1 WHERE refund_id = ?", (refund_id,))
        return row is not None

    def refund_state(self, refund_id: str) -> str:
        """``missing``, ``paid`` or ``reversed``."""
        with self._lock:
            row = self._db.execute(
                "SELECT reversed FROM refunds WHERE refund_id = ?", (refund_id,)
            ).fetchone()
        return "missing" if row is None else ("reversed" if row[0] else "paid")

    def _state(self, refund_id: str) -> tuple[int] | None:
        found: tuple[int] | None = self._db.execute(
            "SELECT reversed FROM refunds WHERE refund_id = ?", (refund_id,)
        ).fetchone()
        return found


_instances: dict[Path, Helpdesk] = {}
_guard = threading.Lock()


def helpdesk() -> Helpdesk:
    """The helpdesk of this process (opened on first use, from ``$CORPS_HELPDESK_DB`` or the default)."""
    path = Path(os.environ.get("CORPS_HELPDESK_DB") or Path.cwd() / ".corps" / "helpdesk.sqlite3").absolute()
    with _guard:
        if path not in _instances:
            _instances[path] = Helpdesk(path)
        return _instances[path]
