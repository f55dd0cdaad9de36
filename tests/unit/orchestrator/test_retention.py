"""Finished workflows are retired after the retention: only the chain head stays, late events still chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gate_helpers import Proposer, at, models_for, offline_codec, topology_of
from test_pipeline_saga import Scenario

from corps.events import EventCodec, EventModel
from corps.orchestrator import Status
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.store import WorkflowRecord
from corps.topology import Topology

RETENTION = timedelta(seconds=60)


class Bed:
    """A topology, its event models and an offline codec."""

    def __init__(self) -> None:
        self.topology: Topology = topology_of()
        self.models: dict[str, type[EventModel]] = models_for(self.topology)
        self.codec: EventCodec = offline_codec(self.topology, self.models)

    def completed(self, retention: timedelta | None = RETENTION) -> Scenario:
        """A scenario whose one workflow completed at 4 s."""
        proposer = Proposer(self.topology, self.codec, self.models)
        scenario = Scenario(Pipeline(self.topology, self.codec, retention=retention), self.codec, proposer)
        scenario.domain("A", 0)
        for i, event in enumerate("BCDE", start=1):
            scenario.domain(event, i, step=f"s{i}")
        (record,) = scenario.pipeline.store.records()
        assert record.saga is not None
        assert record.saga.status is Status.COMPLETED
        return scenario


@pytest.fixture
def bed() -> Bed:
    return Bed()


def state_records(scenario: Scenario) -> list[WorkflowRecord]:
    topic = scenario.pipeline.topics.state
    return [WorkflowRecord.model_validate_json(o.value or b"") for o in scenario.written if o.topic == topic]


def test_a_finished_workflow_is_retired_after_the_retention_in_memory_and_in_the_changelog(bed: Bed) -> None:
    scenario = bed.completed()
    before = scenario.pipeline.store.records()[0]
    assert scenario.tick(4 + 59) == []  # finished at 4 s: not yet
    assert scenario.pipeline.store.records() == [before]
    assert scenario.tick(4 + 60) == []  # nothing emitted, only the state record replaced
    (retired,) = scenario.pipeline.store.records()
    assert retired.retired is Status.COMPLETED
    assert (retired.saga, retired.admitted, retired.parked) == (None, (), ())
    assert retired.chain == before.chain
    assert state_records(scenario)[-1] == retired
    assert len(retired.model_dump_json()) < len(before.model_dump_json()) / 3


def test_a_late_event_of_a_retired_workflow_is_chained_and_not_acted_on(bed: Bed) -> None:
    scenario = bed.completed()
    scenario.tick(100)
    head = scenario.pipeline.store.records()[0].chain
    emitted = scenario.domain("B", 200, step="s1")  # late, with a new event id
    assert emitted == []  # the orchestrator does not act on it
    decision = scenario.chain()[-1]
    assert (decision.sequence, decision.prev_hash, decision.effect) == (head.sequence, head.hash, "ALLOW")
    (record,) = scenario.pipeline.store.records()
    assert record.retired is Status.COMPLETED
    assert record.chain.sequence == head.sequence + 1
    assert record.chain.hash == decision.hash


def test_a_retired_workflow_restored_from_the_changelog_continues_its_chain(bed: Bed) -> None:
    scenario = bed.completed()
    scenario.tick(100)
    values = [o.value for o in scenario.written if o.topic == scenario.pipeline.topics.state]
    restored = Pipeline(bed.topology, bed.codec, retention=RETENTION)
    assert restored.restore([v for v in values if v is not None]) == 1
    again = Scenario(restored, bed.codec, scenario.proposer)
    scenario.domain("C", 200, step="s2")
    again.domain("C", 200, step="s2")
    assert again.written
    assert [(o.topic, o.value, o.headers) for o in again.written] == [
        (o.topic, o.value, o.headers) for o in scenario.written[-len(again.written) :]
    ]


def test_without_retention_a_finished_workflow_is_kept(bed: Bed) -> None:
    scenario = bed.completed(retention=None)
    scenario.tick(10_000_000)
    (record,) = scenario.pipeline.store.records()
    assert record.retired is None
    assert record.saga is not None


def test_a_rolled_back_retirement_is_tried_again(bed: Bed) -> None:
    scenario = bed.completed()
    scenario.pipeline.tick(at(100))
    scenario.pipeline.rollback()
    assert scenario.pipeline.store.records()[0].retired is None
    scenario.tick(101)
    assert scenario.pipeline.store.records()[0].retired is Status.COMPLETED
