"""Re-derive every workflow's state by running the orchestrator's own code over its chain.

The orchestrator is deterministic: the events it writes follow from the events the gate admitted, in
chain order, and from its deadline ticks. So replay walks each verified chain, feeds every admitted
event to a fresh :class:`~corps.orchestrator.driver.Driver` (the real saga state machine and the
real encoder behind the service) and compares what it would write with what the log says it wrote,
event by event — ids, headers and payload. An orchestrator event with nothing to explain it is a tick:
the driver is ticked at that event's time. Ticks that write nothing (a compensation attempt timing out
with retries left) leave no trace in the log; they are replayed at their deadline whenever the next
recorded step needs them. Terminal states are compared with the recorded WorkflowCompleted /
Compensated / Failed.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

from corps.events import EventCodec
from corps.events.errors import RecordError, RegistryError
from corps.events.lifecycle import WorkflowCompensated, WorkflowCompleted, WorkflowFailed
from corps.orchestrator import (
    ClearDeadline,
    DeadlineTick,
    RecordIgnored,
    SagaMachine,
    SetDeadline,
    Status,
    WorkflowState,
)
from corps.orchestrator.chain import ChainHead
from corps.orchestrator.driver import ORCHESTRATOR_SOURCE, Driver
from corps.orchestrator.gate import Admitted, Gate
from corps.orchestrator.store import StateStore, WorkflowRecord
from corps.orchestrator.topics import OutRecord
from corps.replay.records import LogRecord
from corps.replay.state_diff import describe_out, difference
from corps.replay.topics import ReplayTopics
from corps.replay.verification import Check, Finding, Severity, Verification
from corps.replay.verify_chain import ChainResult, VerifiedLink
from corps.topology import Topology

__all__ = ["StateRederiver"]

_TERMINAL = {
    WorkflowCompleted.event_type: Status.COMPLETED,
    WorkflowCompensated.event_type: Status.COMPENSATED,
    WorkflowFailed.event_type: Status.FAILED,
}
_MAX_SILENT_TICKS = 1000


class StateRederiver:
    """Re-derives workflows of one topology.

    Args:
        topology: The topology.
        codec: Encodes what the driver writes (subjects ``TopologyTopics.subject``) and decodes events.
        topics: The topology's topics.
    """

    def __init__(self, topology: Topology, codec: EventCodec, topics: ReplayTopics) -> None:
        self.topology = topology
        self.codec = codec
        self.topics = topics
        self.machine = SagaMachine(topology)
        self.driver = Driver(self.machine, Gate(topology, codec, topics.topics), codec, topics.topics)

    def rederive(self, chain: ChainResult, out: Verification) -> WorkflowState | None:
        """Re-derive one workflow from its checked chain; add findings to ``out``; return its state."""
        if not chain.from_zero:
            out.add(
                self._finding(
                    chain.workflow_id,
                    "not-rederived",
                    Severity.NOTE,
                    "the chain was not read from its first link",
                )
            )
            return None
        run = _Run(self, chain.workflow_id, out)
        for expected, verified in enumerate(chain.links):
            if verified.link.sequence != expected or verified.event is None or not verified.verified:
                run.note_stop(verified, expected)
                return run.state()
            if not run.step(verified):
                return run.state()
        run.finish(chain)
        out.count("workflows_rederived")
        return run.state()

    def _finding(
        self, workflow_id: str, kind: str, severity: Severity, message: str, **where: object
    ) -> Finding:
        return Finding(Check.STATE, kind, severity, workflow_id, message, **where)  # type: ignore[arg-type]


class _Run:
    """One workflow's re-derivation in progress."""

    def __init__(self, owner: StateRederiver, workflow_id: str, out: Verification) -> None:
        self.owner = owner
        self.workflow_id = workflow_id
        self.out = out
        self.store = StateStore()
        self.pending: deque[OutRecord] = deque()
        self.errors = 0
        self.recorded_terminal: tuple[Status, LogRecord] | None = None

    def state(self) -> WorkflowState | None:
        record = self.store.get(self.workflow_id)
        return record.saga if record is not None else None

    def error(self, kind: str, message: str, verified: VerifiedLink | None = None) -> None:
        self.errors += 1
        where: dict[str, object] = {}
        if verified is not None:
            where = {
                "sequence": verified.link.sequence,
                "location": verified.event.describe() if verified.event else verified.link.record.describe(),
                "event_id": verified.link.event_id,
            }
        self.out.add(self.owner._finding(self.workflow_id, kind, Severity.ERROR, message, **where))

    def note_stop(self, verified: VerifiedLink, expected: int) -> None:
        why = (
            f"link {expected} is missing"
            if verified.link.sequence != expected
            else "its event is missing or does not match the chain"
        )
        self.out.add(
            self.owner._finding(
                self.workflow_id,
                "not-rederived",
                Severity.NOTE,
                f"re-derivation stopped at link {expected}: {why} (see the chain findings)",
                sequence=expected,
            )
        )

    # -- one link ---------------------------------------------------------------------------------------

    def step(self, verified: VerifiedLink) -> bool:
        link, event = verified.link, verified.event
        assert event is not None
        lifecycle = self.owner.topics.topics.lifecycle
        if link.admitting and event.source == ORCHESTRATOR_SOURCE and event.topic == lifecycle:
            return self._emitted(verified, event)
        self._unexplained_pending(verified)
        if link.record.timestamp_ms is not None:
            self._silent_ticks(datetime.fromtimestamp(link.record.timestamp_ms / 1000, UTC))
        record = self.store.get(self.workflow_id) or WorkflowRecord(
            workflow_id=self.workflow_id,
            tenant=event.tenant or link.record.tenant or "",
            partition=link.record.partition,
        )
        record = record.with_chain(ChainHead(link.sequence + 1, link.hash))
        if not link.admitting:
            self.store.put(record)
            return True
        try:
            envelope, data = self.owner.codec.decode_datum(event.raw())
        except (RecordError, RegistryError) as exc:
            self.error("undecodable", f"the admitted event cannot be decoded: {exc}", verified)
            return False
        record = record.model_copy(update={"admitted": (*record.admitted, envelope.id)})
        self.store.put(record)
        out: list[OutRecord] = []
        event_name = self.owner.topics.event_names.get(event.topic)
        self.owner.driver.observe(Admitted(envelope, data, event_name, record), self.store, out)
        self._expect(out)
        return True

    def _emitted(self, verified: VerifiedLink, event: LogRecord) -> bool:
        if event.event_type in _TERMINAL:
            self.recorded_terminal = (_TERMINAL[event.event_type], event)
        if not self.pending:
            if event.time is None:
                self.error("state-mismatch", "an orchestrator event without a time", verified)
                return False
            self._silent_ticks(event.time)
            out: list[OutRecord] = []
            self.owner.driver.tick(self.store, self.workflow_id, event.time, out)
            self._expect(out)
            if not self.pending:
                state = self.state()
                due = state.next_deadline() if state is not None else None
                self.error(
                    "state-mismatch",
                    f"the orchestrator wrote {event.short_type} {event.event_id} at "
                    f"{event.time.isoformat()}, "
                    "but nothing observed and no deadline due explains it "
                    f"(derived status {state.status if state else 'new'}, next deadline "
                    f"{due.isoformat() if due else 'none'})",
                    verified,
                )
                self._sync(verified)
                return True
        expected = self.pending.popleft()
        self.out.count("orchestrator_events")
        diff = difference(self.owner.codec, expected, event)
        if diff:
            self.error(
                "state-mismatch",
                f"the orchestrator wrote {event.short_type} {event.event_id}, "
                f"but re-derivation writes {diff}",
                verified,
            )
        if not self.pending:
            self._sync(verified)
        return True

    def _sync(self, verified: VerifiedLink) -> None:
        """Continue from the recorded chain head (the next derived link builds on it)."""
        record = self.store.get(self.workflow_id)
        if record is not None:
            self.store.put(record.with_chain(ChainHead(verified.link.sequence + 1, verified.link.hash)))

    def _expect(self, out: list[OutRecord]) -> None:
        lifecycle = self.owner.topics.topics.lifecycle
        self.pending.extend(r for r in out if r.topic == lifecycle)

    def _unexplained_pending(self, verified: VerifiedLink) -> None:
        while self.pending:
            missing = self.pending.popleft()
            self.error(
                "missing-emission",
                f"re-derivation writes {describe_out(missing)} before link {verified.link.sequence}, "
                "but the log has no such event",
                verified,
            )

    def _silent_ticks(self, before: datetime) -> None:
        """Fire, at their deadlines, the due ticks that write nothing (they leave no trace in the log)."""
        machine: SagaMachine = self.owner.machine
        for _ in range(_MAX_SILENT_TICKS):
            record = self.store.get(self.workflow_id)
            if record is None or record.saga is None:
                return
            due = record.saga.next_deadline()
            if due is None or due >= before:
                return
            transition = machine.apply(record.saga, DeadlineTick(time=due))
            if any(
                not isinstance(c, SetDeadline | ClearDeadline | RecordIgnored) for c in transition.commands
            ):
                return
            self.store.put(record.model_copy(update={"saga": transition.state}))

    def finish(self, chain: ChainResult) -> None:
        last = chain.links[-1] if chain.links else None
        for missing in self.pending:
            self.error(
                "missing-emission",
                f"re-derivation writes {describe_out(missing)} after the last link, but the log has no such "
                "event",
                last,
            )
        self.pending.clear()
        state = self.state()
        derived = state.status if state is not None else Status.NEW
        if self.recorded_terminal is not None:
            recorded, event = self.recorded_terminal
            if derived is not recorded and not self.errors:
                self.error(
                    "state-mismatch",
                    f"the log ends the workflow {recorded} ({event.describe()}), "
                    f"re-derivation ends it {derived}",
                    last,
                )
        elif derived.terminal and not self.errors:
            self.error(
                "state-mismatch",
                f"re-derivation ends the workflow {derived}, but the log records no end",
                last,
            )
