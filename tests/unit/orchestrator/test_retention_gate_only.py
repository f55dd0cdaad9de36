"""Gate-only mode retires idle records: no saga means no finish, so the idle time is the retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gate_helpers import Proposer, at, models_for, offline_codec, topology_of
from test_pipeline_saga import Scenario

from corps.events import EventCodec, EventModel
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

    def gate_only(self, retention: timedelta | None = RETENTION) -> Scenario:
        """A gate-only pipeline (no orchestrator stage)."""
        pipeline = Pipeline(self.topology, self.codec, orchestrate=False, retention=retention)
        return Scenario(pipeline, self.codec, Proposer(self.topology, self.codec, self.models))


@pytest.fixture
def bed() -> Bed:
    return Bed()


def only(scenario: Scenario) -> WorkflowRecord:
    (record,) = scenario.pipeline.store.records()
    return record


def state_records(scenario: Scenario) -> list[WorkflowRecord]:
    topic = scenario.pipeline.topics.state
    return [WorkflowRecord.model_validate_json(o.value or b"") for o in scenario.written if o.topic == topic]


def test_an_idle_gate_only_record_keeps_only_its_chain_head_after_the_retention(bed: Bed) -> None:
    scenario = bed.gate_only()
    scenario.domain("A", 0)
    scenario.domain("B", 10, step="s1")
    before = only(scenario)
    assert before.admitted == ("A@0", "B@10")
    scenario.tick(10 + 59)
    assert only(scenario) == before
    assert scenario.tick(10 + 60) == []  # nothing emitted: the record is replaced
    retired = only(scenario)
    assert (retired.admitted, retired.saga, retired.parked) == ((), None, ())
    assert retired.chain == before.chain
    assert state_records(scenario)[-1] == retired, "the changelog gets the small record too"
    assert scenario.pipeline.evicted == 1


def test_each_change_starts_the_idle_retention_again(bed: Bed) -> None:
    scenario = bed.gate_only()
    scenario.domain("A", 0)
    scenario.domain("B", 40, step="s1")
    scenario.tick(70)  # 70 s after A but only 30 s after B
    assert only(scenario).admitted == ("A@0", "B@40")
    scenario.tick(100)
    assert only(scenario).admitted == ()


def test_a_later_event_chains_at_the_head_and_is_retired_again(bed: Bed) -> None:
    scenario = bed.gate_only()
    scenario.domain("A", 0)
    scenario.tick(60)
    head = only(scenario).chain
    scenario.domain("C", 100, step="s2")
    link = scenario.chain()[-1]
    assert (link.sequence, link.prev_hash, link.effect) == (head.sequence, head.hash, "ALLOW")
    assert only(scenario).admitted == ("C@100",)
    scenario.tick(160)
    assert only(scenario).admitted == ()
    assert only(scenario).chain.hash == link.hash
    evicted = scenario.pipeline.evicted
    scenario.tick(10_000)  # nothing left to drop: no changelog record for nothing
    assert scenario.pipeline.evicted == evicted


def test_restored_gate_only_records_are_retired_a_retention_after_the_restore(bed: Bed) -> None:
    scenario = bed.gate_only()
    scenario.domain("A", 0)
    values = [o.value for o in scenario.written if o.topic == scenario.pipeline.topics.state]
    restored = Pipeline(bed.topology, bed.codec, orchestrate=False, retention=RETENTION)
    assert restored.restore([v for v in values if v is not None], at(500)) == 1
    again = Scenario(restored, bed.codec, scenario.proposer)
    again.tick(559)
    assert only(again).admitted == ("A@0",), "the idle clock starts at the restore, never earlier"
    again.tick(560)
    assert only(again).admitted == ()


def test_a_rolled_back_gate_only_retirement_is_tried_again(bed: Bed) -> None:
    scenario = bed.gate_only()
    scenario.domain("A", 0)
    scenario.pipeline.tick(at(60))
    scenario.pipeline.rollback()
    assert only(scenario).admitted == ("A@0",)
    scenario.tick(61)
    assert only(scenario).admitted == ()


def test_without_retention_gate_only_records_are_kept(bed: Bed) -> None:
    scenario = bed.gate_only(retention=None)
    scenario.domain("A", 0)
    scenario.tick(10_000_000)
    assert only(scenario).admitted == ("A@0",)
