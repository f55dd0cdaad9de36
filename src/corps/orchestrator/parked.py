"""An event the gate parked until humans approve it, as kept in the workflow's changelog record.

The parked record (admitted topic, partition, key, value — redacted if a redaction fired — and
headers) is kept byte for byte, base64 in JSON, next to the approval requests it waits for
(:class:`~corps.policy.approvals.ApprovalState` as JSON). So a parked event and its votes survive
``kill -9``: they are rebuilt from the changelog with the rest of the workflow's state.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from corps.events import RawRecord
from corps.orchestrator.topics import OutRecord
from corps.policy.approvals import ApprovalState, Status

__all__ = ["ParkedEvent"]


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


class ParkedEvent(BaseModel):
    """A proposed event waiting for approvals.

    Attributes:
        event_id: Its ``ce_id``.
        event_name: The topology's name of its event type (``None`` for a lifecycle report).
        step: The step it belongs to (what ``corps approve WORKFLOW STEP`` names).
        topic: The admitted topic it goes to once approved.
        proposed_topic: The topic it was proposed on.
        partition: Its partition index.
        key: Message key, base64.
        value: The value to admit, base64.
        headers: Headers, values base64.
        requests: The approval requests (``ApprovalState`` as JSON text), all of which must approve.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    event_name: str | None
    step: str
    topic: str
    proposed_topic: str
    partition: int
    key: str | None
    value: str | None
    headers: tuple[tuple[str, str | None], ...] = ()
    requests: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        raw: RawRecord,
        *,
        event_id: str,
        event_name: str | None,
        step: str,
        topic: str,
        value: bytes | None,
        requests: list[ApprovalState],
    ) -> ParkedEvent:
        """Park ``raw`` (admitting ``value`` instead of its own once approved) behind ``requests``."""
        return cls(
            event_id=event_id,
            event_name=event_name,
            step=step,
            topic=topic,
            proposed_topic=raw.topic,
            partition=raw.partition,
            key=_b64(raw.key),
            value=_b64(value),
            headers=tuple((name, _b64(data)) for name, data in raw.headers),
            requests=tuple(json.dumps(r.to_json(), sort_keys=True) for r in requests),
        )

    def states(self) -> list[ApprovalState]:
        """The approval requests."""
        return [ApprovalState.from_json(json.loads(text)) for text in self.requests]

    def with_states(self, states: list[ApprovalState]) -> ParkedEvent:
        """This parked event with its requests replaced."""
        return self.model_copy(
            update={"requests": tuple(json.dumps(s.to_json(), sort_keys=True) for s in states)}
        )

    def approved(self) -> bool:
        """True when every request is approved."""
        return all(s.status is Status.APPROVED for s in self.states())

    def next_deadline(self) -> datetime | None:
        """The earliest deadline of a pending request."""
        pending = [s.deadline for s in self.states() if s.status is Status.PENDING]
        return min(pending) if pending else None

    def raw(self) -> RawRecord:
        """The record to admit, as if proposed with the admitted value (to decode it again)."""
        return RawRecord(
            topic=self.proposed_topic,
            partition=self.partition,
            offset=-1,
            key=_unb64(self.key),
            value=_unb64(self.value),
            headers=tuple((name, _unb64(data)) for name, data in self.headers),
        )

    def out_record(self) -> OutRecord:
        """The admitted record to write."""
        raw = self.raw()
        return OutRecord(self.topic, self.partition, raw.key, raw.value, list(raw.headers))
