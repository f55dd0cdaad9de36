"""Per-workflow state of the gate and the orchestrator, and the in-memory table that holds it.

One :class:`WorkflowRecord` per workflow id: the end of its hash chain, the ids the gate admitted
(so a re-proposed event is never admitted twice), and — when the orchestrator stage runs — the saga
state. Records are immutable; the service writes the latest one of every workflow it touched to the
compacted changelog in the same Kafka transaction as its outputs and input offsets, so after a crash
the table is rebuilt from the changelog alone.

:class:`StateStore` keeps the committed table and an overlay of the batch in flight (a failed batch's
is dropped), and schedules deadlines lazily: one heap entry per workflow, re-checked when due.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from corps.orchestrator.chain import ChainHead
from corps.orchestrator.parked import ParkedEvent
from corps.orchestrator.saga_state import Status, WorkflowState, evolve

__all__ = ["StateStore", "WorkflowRecord"]


class WorkflowRecord(BaseModel):
    """Everything kept about one workflow (the value of its changelog record, as JSON).

    Attributes:
        workflow_id: The workflow (correlation) id, also the changelog key.
        tenant: The tenant of its first event.
        partition: The partition index its records live on (every topic of the topology).
        chain_sequence: The next link's sequence number in its hash chain.
        chain_hash: The last link's hash (``""`` before the first link).
        admitted: ``ce_id`` of every proposed event the gate admitted, in order.
        saga: The orchestrator's saga state (``None`` when only the gate runs).
        parked: Events the gate parked until humans approve them.
        retired: The terminal status of a finished workflow whose details were evicted after the
            retention (:meth:`retire`): only its chain head is kept, so later events still link into
            its chain and are recorded, never acted on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    workflow_id: str
    tenant: str
    partition: int
    chain_sequence: int = 0
    chain_hash: str = ""
    admitted: tuple[str, ...] = ()
    saga: WorkflowState | None = None
    parked: tuple[ParkedEvent, ...] = ()
    retired: Status | None = None

    def to_changelog(self) -> bytes:
        """The changelog value: JSON without the fields at their defaults.

        ``model_validate_json`` reads it back (filling the defaults in), as it reads records written
        with every field.
        """
        return _SERIALIZER.to_json(self, exclude_defaults=True)

    @property
    def chain(self) -> ChainHead:
        """The end of the workflow's hash chain."""
        return ChainHead(self.chain_sequence, self.chain_hash)

    def with_chain(self, head: ChainHead) -> WorkflowRecord:
        """This record with its chain ending at ``head``."""
        return evolve(self, chain_sequence=head.sequence, chain_hash=head.hash)

    def finished_at(self) -> datetime | None:
        """When the workflow ended (``None`` while it runs, has parked events, or was retired)."""
        saga = self.saga
        if saga is None or self.parked or not saga.status.terminal:
            return None
        return saga.finished_at

    def retire(self) -> WorkflowRecord:
        """The small record that stands for this finished workflow once evicted: its chain head."""
        status = self.saga.status if self.saga is not None else None
        return evolve(self, admitted=(), saga=None, parked=(), retired=status)

    def next_deadline(self) -> datetime | None:
        """When the orchestrator must look at this workflow again, if ever."""
        saga = self.saga
        due = saga.next_deadline() if saga is not None else None
        for parked in self.parked:
            at = parked.next_deadline()
            if at is not None and (due is None or at < due):
                due = at
        return due


_SERIALIZER = WorkflowRecord.__pydantic_serializer__


class StateStore:
    """The table of workflow records of the partitions this process owns, with a batch overlay.

    Args:
        retention: How long a finished workflow's full record is kept (``None``: forever); see
            :meth:`expired`.
        idle: Gate-only mode (no saga, so no workflow ever finishes): retire instead a record that
            was not changed for the retention and has no parked event. The idle clock is this
            process's (:meth:`commit` and :meth:`load` take ``now``): a restore starts it again, so
            a record is retired later, never earlier.
    """

    def __init__(self, retention: timedelta | None = None, *, idle: bool = False) -> None:
        self.retention = retention
        self.idle = idle
        self._idle_until: dict[str, datetime] = {}
        self._idle_queued: set[str] = set()
        self._committed: dict[str, WorkflowRecord] = {}
        self._overlay: dict[str, WorkflowRecord] = {}
        self._deadlines: list[tuple[datetime, str]] = []
        self._scheduled: dict[str, datetime] = {}
        self._recheck: list[str] = []  # deadlines deferred by due() on the batch's records
        self._evictions: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._committed)

    def get(self, workflow_id: str) -> WorkflowRecord | None:
        """The current record of ``workflow_id`` (the batch's version first), if any."""
        found = self._overlay.get(workflow_id)
        return found if found is not None else self._committed.get(workflow_id)

    def put(self, record: WorkflowRecord) -> None:
        """Change a record within the batch in flight."""
        self._overlay[record.workflow_id] = record

    def dirty(self) -> list[WorkflowRecord]:
        """The records the batch in flight changed (each once, latest version)."""
        return list(self._overlay.values())

    def commit(self, now: datetime | None = None) -> None:
        """The batch's transaction committed: its records become the table's (changed at ``now``)."""
        overlay = self._overlay
        if self.idle and now is not None:
            for workflow_id in overlay:
                self._touch(workflow_id, now)
        committed = self._committed
        schedule = self._schedule_at
        evictions = self.retention is not None
        for workflow_id, record in overlay.items():
            if evictions:
                before = committed.get(workflow_id)
                if before is None or before.finished_at() is None:
                    self._schedule_eviction(record)
            schedule(record.next_deadline(), workflow_id)  # one heap entry per workflow, see due()
        committed.update(overlay)
        overlay.clear()
        self._recheck.clear()

    def rollback(self) -> None:
        """The batch's transaction failed: forget its changes."""
        self._overlay.clear()
        self.reschedule(self._recheck)
        self._recheck.clear()

    def load(self, records: Iterable[WorkflowRecord], now: datetime | None = None) -> int:
        """Add records restored from the changelog (outside any batch, the last per workflow wins).

        ``now`` starts the idle clock of the restored records (gate-only mode).

        Returns:
            How many workflows were restored.
        """
        latest = {record.workflow_id: record for record in records}
        for record in latest.values():
            self._committed[record.workflow_id] = record
            self._schedule(record)
            if self.idle and now is not None:
                self._touch(record.workflow_id, now)
        return len(latest)

    def drop_partitions(self, partitions: Iterable[int]) -> int:
        """Forget the records of partitions this process no longer owns; return how many."""
        gone = set(partitions)
        doomed = [wf for wf, record in self._committed.items() if record.partition in gone]
        for workflow_id in doomed:
            del self._committed[workflow_id]
            self._scheduled.pop(workflow_id, None)
            self._idle_until.pop(workflow_id, None)
        self._overlay.clear()
        return len(doomed)

    def records(self) -> list[WorkflowRecord]:
        """Every committed record (for tests and the operators' view)."""
        return list(self._committed.values())

    # -- deadlines ----------------------------------------------------------------------------------------

    def _schedule(self, record: WorkflowRecord) -> None:
        self._schedule_at(record.next_deadline(), record.workflow_id)
        self._schedule_eviction(record)

    def _schedule_at(self, deadline: datetime | None, workflow_id: str) -> None:
        """Make sure ``workflow_id`` has a heap entry at or before ``deadline``."""
        if deadline is not None:
            entry = self._scheduled.get(workflow_id)
            if entry is None or deadline < entry:
                heapq.heappush(self._deadlines, (deadline, workflow_id))
                self._scheduled[workflow_id] = deadline

    def _schedule_eviction(self, record: WorkflowRecord) -> None:
        finished = record.finished_at()
        if finished is not None and self.retention is not None:
            heapq.heappush(self._evictions, (finished + self.retention, record.workflow_id))

    def _touch(self, workflow_id: str, now: datetime) -> None:
        """Gate-only mode: ``workflow_id`` changed at ``now``; its idle retention starts again."""
        if self.retention is None:
            return
        until = now + self.retention
        self._idle_until[workflow_id] = until
        if workflow_id not in self._idle_queued:  # one heap entry per workflow: re-pushed if early
            self._idle_queued.add(workflow_id)
            heapq.heappush(self._evictions, (until, workflow_id))

    def _idle_expired(self, workflow_id: str, now: datetime) -> bool:
        self._idle_queued.discard(workflow_id)
        until = self._idle_until.get(workflow_id)
        if until is None:
            return False
        if until > now:  # changed since the entry was pushed
            self._idle_queued.add(workflow_id)
            heapq.heappush(self._evictions, (until, workflow_id))
            return False
        record = self.get(workflow_id)
        if record is None or record.parked or not record.admitted:
            del self._idle_until[workflow_id]  # nothing to drop (or parked: touched when it changes)
            return False
        return True  # _idle_until stays until the retirement commits (reschedule after a rollback)

    def expired(self, now: datetime) -> list[str]:
        """Finished workflows whose retention ended at or before ``now``, each once (entries removed).

        In gate-only mode (``idle``): records not changed for the retention, without parked events.
        The caller replaces each one's record by :meth:`WorkflowRecord.retire` in the batch in flight
        (and :meth:`reschedule` them when the batch is rolled back).
        """
        found: dict[str, None] = {}
        while self._evictions and self._evictions[0][0] <= now:
            _, workflow_id = heapq.heappop(self._evictions)
            if self.idle:
                if self._idle_expired(workflow_id, now):
                    found[workflow_id] = None
                continue
            record = self.get(workflow_id)
            finished = record.finished_at() if record is not None else None
            if finished is not None and self.retention is not None and finished + self.retention <= now:
                found[workflow_id] = None
        return list(found)

    def next_deadline(self) -> datetime | None:
        """The earliest scheduled deadline (it may be early: see :meth:`due`)."""
        return self._deadlines[0][0] if self._deadlines else None

    def due(self, now: datetime) -> list[str]:
        """Workflows whose deadline is at or before ``now``, each once, earliest first (entries removed).

        Deadlines are scheduled lazily: one live heap entry per workflow, pushed when a committed
        deadline is earlier than it. When it comes due the record decides: a deadline that moved later
        gets a new entry, one that is gone is dropped. Callers still check the record's deadline.
        """
        found: dict[str, None] = {}
        heap = self._deadlines
        scheduled = self._scheduled
        while heap and heap[0][0] <= now:
            entry, workflow_id = heapq.heappop(heap)
            if scheduled.get(workflow_id) != entry:
                continue  # replaced by an earlier entry (or its partition was dropped)
            del scheduled[workflow_id]
            record = self.get(workflow_id)
            deadline = record.next_deadline() if record is not None else None
            if deadline is not None and deadline <= now:
                found[workflow_id] = None
                continue
            self._schedule_at(deadline, workflow_id)  # not yet: wait (a rollback reschedules)
            if workflow_id in self._overlay:
                self._recheck.append(workflow_id)
        return list(found)

    def reschedule(self, workflow_ids: Iterable[str]) -> None:
        """Schedule the committed deadlines of ``workflow_ids`` again (after a batch was rolled back)."""
        for workflow_id in workflow_ids:
            record = self._committed.get(workflow_id)
            if record is not None:
                self._schedule(record)
            until = self._idle_until.get(workflow_id)
            if until is not None and workflow_id not in self._idle_queued:
                self._idle_queued.add(workflow_id)
                heapq.heappush(self._evictions, (until, workflow_id))
