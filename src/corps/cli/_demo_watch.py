"""Follow a demo run on the log: which workflows ended how, and which wait for a human.

Reads the workflow's lifecycle topic and the gate's decision log from the start (``read_committed``),
so it sees exactly what any auditor would see; it keeps no state of its own besides what it read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import click
from confluent_kafka import Consumer, TopicPartition

from corps.cli._demo_data import DemoTicket
from corps.cli._supervise import Supervisor
from corps.events import EventCodec, RawRecord, SchemaRegistry
from corps.events.lifecycle import ApprovalRequested, PolicyDecision
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology.naming import decision_topic, lifecycle_topic

__all__ = ["LifecycleWatcher"]

_TERMINAL = {
    "corps.lifecycle.WorkflowCompleted": "completed",
    "corps.lifecycle.WorkflowCompensated": "compensated",
    "corps.lifecycle.WorkflowFailed": "failed",
}
Approve = Callable[[DemoTicket, str], None]


class LifecycleWatcher:
    """Tracks the outcome of the given workflow ids from the lifecycle topic and the decision log."""

    def __init__(
        self, kafka: KafkaSettings, registry: RegistrySettings, workflow: str, workflow_ids: Sequence[str]
    ) -> None:
        self._ids = set(workflow_ids)
        self._topics = [lifecycle_topic(workflow), decision_topic(workflow)]
        self._consumer = Consumer(
            {
                **kafka.client_config(),
                "group.id": "corps-demo-watch",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
            }
        )
        self._codec = EventCodec(SchemaRegistry(registry))
        self.outcome: dict[str, str] = {}
        self.approvals: dict[str, str] = {}
        metadata = self._consumer.list_topics(timeout=10)
        self._consumer.assign(
            [TopicPartition(topic, p, 0) for topic in self._topics for p in metadata.topics[topic].partitions]
        )

    def _read(self, raw: RawRecord) -> None:
        envelope = self._codec.envelope(raw)
        wf = envelope.workflow_id
        if wf not in self._ids:
            return
        if envelope.type in _TERMINAL:
            self.outcome[wf] = _TERMINAL[envelope.type]
        elif envelope.type == ApprovalRequested.event_type:
            self.approvals.setdefault(wf, self._codec.decode(raw, ApprovalRequested).payload.step)
        elif envelope.type == PolicyDecision.event_type:
            decision = self._codec.decode(raw, PolicyDecision).payload
            if decision.effect == "DENY" and wf not in self.outcome:
                self.outcome[wf] = f"denied ({decision.reason})"

    def wait(
        self,
        tickets: Sequence[DemoTicket],
        *,
        timeout_s: float,
        supervisor: Supervisor,
        approve: Approve,
    ) -> dict[str, str]:
        """Poll until every ticket's workflow has an outcome; approve what waits for a human, once."""
        by_id = {t.workflow_id: t for t in tickets}
        approved: set[str] = set()
        deadline = time.monotonic() + timeout_s
        try:
            while set(self.outcome) < self._ids:
                if time.monotonic() > deadline:
                    missing = sorted(self._ids - set(self.outcome))
                    raise click.ClickException(f"no outcome after {timeout_s:.0f}s for {missing}")
                supervisor.check_alive()
                for message in self._consumer.consume(500, timeout=0.5):
                    if message.error() is None:
                        self._read(RawRecord.from_message(cast(Any, message)))
                for wf, step in self.approvals.items():
                    if wf not in approved and wf not in self.outcome:
                        approved.add(wf)
                        approve(by_id[wf], step)
        finally:
            self._consumer.close()
        return dict(self.outcome)
