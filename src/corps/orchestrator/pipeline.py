"""Gate + orchestrator for one topology, without I/O: proposed records and clock ticks in, records out.

The service (:mod:`corps.orchestrator.service`) moves records between Kafka and a :class:`Pipeline`
in transactions: it hands over a batch of proposed records and the clock's time, produces
:meth:`Pipeline.outputs` plus :meth:`Pipeline.changelog` with the input offsets, and then calls
:meth:`Pipeline.commit` — or :meth:`Pipeline.rollback` when the transaction failed, which leaves the
table exactly as it was before the batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from corps.events import EventCodec, RawRecord
from corps.orchestrator.driver import Driver
from corps.orchestrator.gate import Gate
from corps.orchestrator.policy import Policy
from corps.orchestrator.policy_gate import EnginePolicy, is_counter_record
from corps.orchestrator.saga import SagaMachine
from corps.orchestrator.store import StateStore, WorkflowRecord
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.topology import Topology

__all__ = ["Pipeline"]


class Pipeline:
    """The gate and (optionally) the orchestrator stage over one state table.

    Args:
        topology: The topology served.
        codec: The event codec; its subject strategy must be :meth:`TopologyTopics.subject`.
        policy: The gate's policy (allow everything by default).
        orchestrate: Run the orchestrator stage behind the gate (off: the gate alone).
        retention: How long a finished workflow's full record is kept; after that :meth:`tick`
            replaces it by its chain head (:meth:`WorkflowRecord.retire`), in memory and in the
            changelog (``None``: forever). Gate-only (``orchestrate`` off), where no workflow
            finishes, a record unchanged for the retention and with no parked event is retired
            instead (its admitted ids dropped, its chain head kept).
    """

    def __init__(
        self,
        topology: Topology,
        codec: EventCodec,
        *,
        policy: Policy | None = None,
        orchestrate: bool = True,
        retention: timedelta | None = None,
    ) -> None:
        self.topology = topology
        self.topics = TopologyTopics.of(topology)
        self.store = StateStore(retention, idle=not orchestrate)
        self._now: datetime | None = None
        self.evicted = 0
        """How many finished workflows were retired (committed or not)."""
        self.gate = Gate(topology, codec, self.topics, policy)
        self.driver = Driver(SagaMachine(topology), self.gate, codec, self.topics) if orchestrate else None
        self._out: list[OutRecord] = []
        self._ticked: list[str] = []

    def handle(self, raw: RawRecord, now: datetime) -> None:
        """Gate one proposed record and let the orchestrator observe it if admitted.

        Raises:
            RegistryUnavailableError: Retry the batch later (call :meth:`rollback` first).
        """
        self._now = now
        admitted = self.gate.admit(raw, self.store, now, self._out)
        if admitted is not None and self.driver is not None:
            self.driver.observe(admitted, self.store, self._out)

    def tick(self, now: datetime) -> int:
        """Fire the deadlines due at ``now`` and retire expired workflows; return how many were woken.

        Deadlines are steps' and approval timeouts; a workflow that finished longer than the
        retention ago is replaced by its chain head.
        """
        self._now = now
        woken = 0
        for workflow_id in self.store.due(now):
            self._ticked.append(workflow_id)
            self.gate.expire(self.store, workflow_id, now, self._out)
            if self.driver is not None:
                woken += self.driver.tick(self.store, workflow_id, now, self._out)
        for workflow_id in self.store.expired(now):
            record = self.store.get(workflow_id)
            if record is not None:
                self._ticked.append(workflow_id)
                self.store.put(record.retire())
                self.evicted += 1
        return woken

    @property
    def engine_policy(self) -> EnginePolicy | None:
        """The gate's policy when it is the policy engine (it keeps counters)."""
        policy = self.gate.policy
        return policy if isinstance(policy, EnginePolicy) else None

    def next_deadline(self) -> datetime | None:
        """The earliest deadline scheduled (the service sleeps no longer than until then)."""
        return self.store.next_deadline()

    @property
    def outputs(self) -> list[OutRecord]:
        """The records the batch in flight writes, in order (admitted, decisions, lifecycle, dead letters)."""
        return self._out

    def changelog(self) -> list[OutRecord]:
        """The changelog records of the batch in flight: the latest record of each workflow touched."""
        topic = self.topics.state
        records = [
            OutRecord(topic, record.partition, record.workflow_id.encode(), record.to_changelog())
            for record in self.store.dirty()
        ]
        engine = self.engine_policy
        if engine is not None:
            records += [OutRecord(topic, p, key, value) for p, key, value in engine.changelog()]
        return records

    def commit(self) -> None:
        """The batch's transaction committed."""
        self.store.commit(self._now)
        if (engine := self.engine_policy) is not None:
            engine.commit()
        self._out.clear()
        self._ticked.clear()

    def rollback(self) -> None:
        """The batch's transaction failed: forget everything it did (its inputs will be read again)."""
        self.store.rollback()
        if (engine := self.engine_policy) is not None:
            engine.rollback()
        self.store.reschedule(self._ticked)
        self._out.clear()
        self._ticked.clear()

    def restore(self, values: list[bytes], now: datetime | None = None) -> int:
        """Load changelog values (oldest first; the last per workflow wins); return how many workflows.

        ``now`` starts the idle clock of gate-only records (see ``retention``). Policy counters in
        the changelog go back to the policy engine (ignored without one).
        """
        counters = [value for value in values if is_counter_record(value)]
        engine = self.engine_policy
        if counters and engine is not None:
            engine.restore(counters)
        return self.store.load(
            (WorkflowRecord.model_validate_json(v) for v in values if not is_counter_record(v)), now
        )
