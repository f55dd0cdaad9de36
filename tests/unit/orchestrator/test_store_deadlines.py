"""StateStore schedules deadlines lazily: one heap entry per workflow, re-checked when it comes due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corps.orchestrator.saga_state import PendingStep, Status, WorkflowState
from corps.orchestrator.store import StateStore, WorkflowRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _record(deadline: float | None, workflow_id: str = "wf-1") -> WorkflowRecord:
    pending = (
        ()
        if deadline is None
        else (PendingStep(step="s", trigger_event_id="e", since=T0, deadline=_at(deadline)),)
    )
    status = Status.RUNNING if deadline is not None else Status.COMPLETED
    saga = WorkflowState(workflow_id=workflow_id, status=status, pending=pending)
    return WorkflowRecord(workflow_id=workflow_id, tenant="t", partition=0, saga=saga)


def _commit(store: StateStore, record: WorkflowRecord) -> None:
    store.put(record)
    store.commit()


def test_a_later_deadline_keeps_one_entry_and_fires_at_its_own_time() -> None:
    store = StateStore()
    _commit(store, _record(10))
    _commit(store, _record(20))
    _commit(store, _record(30))
    assert store.next_deadline() == _at(10)  # the first entry stands for the later deadlines
    assert store.due(_at(15)) == []
    assert store.next_deadline() == _at(30)  # re-checked: the record's deadline now
    assert store.due(_at(29)) == []
    assert store.due(_at(30)) == ["wf-1"]
    assert store.next_deadline() is None


def test_an_earlier_deadline_fires_early() -> None:
    store = StateStore()
    _commit(store, _record(30))
    _commit(store, _record(5))
    assert store.due(_at(5)) == ["wf-1"]
    assert store.due(_at(40)) == []  # the replaced entry is skipped


def test_a_finished_workflow_is_dropped_when_its_entry_comes_due() -> None:
    store = StateStore()
    _commit(store, _record(10))
    _commit(store, _record(None))
    assert store.due(_at(100)) == []
    assert store.next_deadline() is None


def test_each_workflow_is_due_once_earliest_first() -> None:
    store = StateStore()
    _commit(store, _record(7, "wf-b"))
    _commit(store, _record(3, "wf-a"))
    _commit(store, _record(50, "wf-c"))
    assert store.due(_at(10)) == ["wf-a", "wf-b"]
    assert store.due(_at(10)) == []


def test_a_rolled_back_batch_leaves_the_committed_deadline_scheduled() -> None:
    store = StateStore()
    _commit(store, _record(10))
    store.put(_record(60))  # the batch in flight moves the deadline later ...
    assert store.due(_at(20)) == []  # ... so at 20 nothing is due in the batch
    store.rollback()  # ... but the batch fails: the committed deadline (10) is due again
    assert store.due(_at(20)) == ["wf-1"]


def test_a_committed_batch_keeps_its_deferred_deadline() -> None:
    store = StateStore()
    _commit(store, _record(10))
    store.put(_record(60))
    assert store.due(_at(20)) == []
    store.commit()
    assert store.due(_at(59)) == []
    assert store.due(_at(60)) == ["wf-1"]
