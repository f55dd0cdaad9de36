"""Gate + orchestrator without a broker: admitted events drive the saga; its events are chained too."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest
from gate_helpers import Proposer, as_raw, at, models_for, offline_codec, topology_of

from corps.events import EventCodec, EventModel
from corps.events.lifecycle import (
    EVENTS,
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    PolicyDecision,
    StepFailed,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
)
from corps.events.model import models_by_type
from corps.orchestrator import Status
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.topics import OutRecord
from corps.topology import Topology

LIFECYCLE = models_by_type(EVENTS)


class Scenario:
    """One workflow through a pipeline, with the emitted lifecycle events decoded."""

    def __init__(self, pipeline: Pipeline, codec: EventCodec, proposer: Proposer, wf: str = "wf-1") -> None:
        self.pipeline = pipeline
        self.codec = codec
        self.proposer = proposer
        self.wf = wf
        self.written: list[OutRecord] = []

    def _flush(self) -> list[EventModel]:
        out = list(self.pipeline.outputs)
        self.written.extend(out)
        self.written.extend(self.pipeline.changelog())
        self.pipeline.commit()
        topic = self.pipeline.topics.lifecycle
        emitted = [
            o for o in out if o.topic == topic and dict(o.headers)["ce_source"] == b"corps/orchestrator"
        ]
        return [self.codec.decode_any(as_raw(o), LIFECYCLE).payload for o in emitted]

    def domain(self, name: str, seconds: float, step: str | None = None) -> list[EventModel]:
        self.pipeline.handle(
            self.proposer.domain(name, self.wf, seconds, step=step, n=name, event_id=f"{name}@{seconds}"),
            at(seconds),
        )
        return self._flush()

    def report(self, payload: EventModel, seconds: float, causation: str | None = None) -> list[EventModel]:
        self.pipeline.handle(
            self.proposer.report(
                payload, self.wf, seconds, causation_id=causation, event_id=f"{payload.event_type}@{seconds}"
            ),
            at(seconds),
        )
        return self._flush()

    def tick(self, seconds: float) -> list[EventModel]:
        self.pipeline.tick(at(seconds))
        return self._flush()

    def last_request_id(self) -> str:
        topic = self.pipeline.topics.lifecycle
        for out in reversed(self.written):
            if (
                out.topic == topic
                and dict(out.headers)["ce_type"] == CompensationRequested.event_type.encode()
            ):
                return dict(out.headers)["ce_id"].decode()  # type: ignore[union-attr]
        raise AssertionError("no CompensationRequested written")

    def chain(self) -> list[PolicyDecision]:
        topic = self.pipeline.topics.decisions
        return [
            self.codec.decode(as_raw(o), PolicyDecision).payload for o in self.written if o.topic == topic
        ]


@pytest.fixture
def topology() -> Topology:
    return topology_of()


@pytest.fixture
def models(topology: Topology) -> dict[str, type[EventModel]]:
    return models_for(topology)


@pytest.fixture
def codec(topology: Topology, models: dict[str, type[EventModel]]) -> EventCodec:
    return offline_codec(topology, models)


@pytest.fixture
def scenario(topology: Topology, codec: EventCodec, models: dict[str, type[EventModel]]) -> Scenario:
    return Scenario(Pipeline(topology, codec), codec, Proposer(topology, codec, models))


def names(events: Iterable[EventModel]) -> list[str]:
    return [type(e).__name__ for e in events]


def run_until_failure_at(scenario: Scenario, k: int) -> list[EventModel]:
    emitted = scenario.domain("A", 0)
    for i, event in enumerate("BCD"[: k - 1], start=1):
        emitted += scenario.domain(event, i, step=f"s{i}")
    failed = StepFailed(
        step=f"s{k}", agent=f"a{k}", code="NON_RETRYABLE", attempts=1, last_error="boom", retryable=False
    )
    return emitted + scenario.report(failed, 10)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_failure_at_step_k_of_4_requests_compensations_k_minus_1_to_1_one_at_a_time(
    scenario: Scenario, k: int
) -> None:
    emitted = run_until_failure_at(scenario, k)
    requested: list[str] = []
    clock = 11
    while True:
        asks = [e for e in emitted if isinstance(e, CompensationRequested)]
        if not asks:
            break
        [ask] = asks
        assert ask.failed_step == f"s{k}"
        assert ask.original_event_type == f"test.four.{'BCD'[int(ask.step[1]) - 1]}"
        assert ask.original_payload_json == f'{{"n":"{"BCD"[int(ask.step[1]) - 1]}"}}'
        requested.append(ask.step)
        done = CompensationCompleted(step=ask.step, agent=ask.agent)
        emitted = scenario.report(done, clock, causation=scenario.last_request_id())
        clock += 1
    assert requested == [f"s{i}" for i in range(k - 1, 0, -1)]
    end = emitted[-1]
    assert names(emitted).count("WorkflowCompensated") == 1
    assert isinstance(end, WorkflowCompensated)
    assert end.compensated_steps == tuple(requested)
    record = scenario.pipeline.store.get("wf-1")
    assert record is not None
    assert record.saga is not None
    assert record.saga.status is Status.COMPENSATED


def test_every_event_written_is_one_link_of_one_unbroken_chain(scenario: Scenario) -> None:
    run_until_failure_at(scenario, 2)
    scenario.report(CompensationCompleted(step="s1", agent="a1"), 11, causation=scenario.last_request_id())
    chain = scenario.chain()
    assert [d.sequence for d in chain] == list(range(len(chain)))
    assert all(d.prev_hash == p.hash for p, d in itertools.pairwise(chain))
    written_ids = {
        dict(o.headers)["ce_id"].decode()  # type: ignore[union-attr]
        for o in scenario.written
        if o.topic in {*scenario.pipeline.topics.admitted.values(), scenario.pipeline.topics.lifecycle}
    }
    assert {d.decided_event_id for d in chain} == written_ids
    assert all(d.effect == "ALLOW" for d in chain)
    emitted = [d.decided_event_type for d in chain if d.reason == "emitted by the orchestrator"]
    assert emitted == [
        WorkflowStarted.event_type,
        CompensationRequested.event_type,
        WorkflowCompensated.event_type,
    ]


def test_the_happy_path_is_only_watched_started_and_completed(scenario: Scenario) -> None:
    emitted = scenario.domain("A", 0)
    for i, event in enumerate("BCDE", start=1):
        emitted += scenario.domain(event, i, step=f"s{i}")
    assert names(emitted) == ["WorkflowStarted", "WorkflowCompleted"]
    completed = emitted[1]
    assert isinstance(completed, WorkflowCompleted)
    assert completed.steps_completed == ("s1", "s2", "s3", "s4")
    assert completed.duration_ms == 4000
    assert (completed.workflow, completed.workflow_version) == ("four", 3)
    late = scenario.domain("C", 9, step="s2")
    assert late == []
    record = scenario.pipeline.store.get("wf-1")
    assert record is not None
    assert record.saga is not None
    assert [i.reason.value for i in record.saga.ignored] == ["late"]


def test_a_missed_deadline_reports_the_timeout_and_compensates(
    scenario: Scenario, topology: Topology
) -> None:
    scenario.domain("A", 0)
    scenario.domain("B", 1, step="s1")
    deadline = 1 + topology.step_deadline("s2").total_seconds()
    assert scenario.tick(deadline - 0.5) == []
    assert scenario.pipeline.next_deadline() == at(deadline)
    emitted = scenario.tick(deadline + 0.25)
    assert names(emitted) == ["StepFailed", "CompensationRequested"]
    timeout, ask = emitted
    assert isinstance(timeout, StepFailed)
    assert isinstance(ask, CompensationRequested)
    assert (timeout.step, timeout.code) == ("s2", "TIMEOUT")
    assert ask.step == "s1"
    done = scenario.report(
        CompensationCompleted(step="s1", agent="a1"), deadline + 1, causation=scenario.last_request_id()
    )
    assert names(done) == ["WorkflowCompensated"]


def test_a_compensation_that_keeps_failing_ends_in_workflow_failed(scenario: Scenario) -> None:
    run_until_failure_at(scenario, 2)
    failure = CompensationFailed(
        step="s1", agent="a1", code="DEPENDENCY_UNAVAILABLE", attempts=3, last_error="bank down"
    )
    assert scenario.report(failure, 11, causation=scenario.last_request_id()) == []
    retry = scenario.tick(12.5)  # backoff 1 s after the first failure
    assert names(retry) == ["CompensationRequested"]
    emitted = scenario.report(failure, 13, causation=scenario.last_request_id())
    [end] = emitted
    assert isinstance(end, WorkflowFailed)
    assert (end.failed_compensation_step, end.needs_human, end.failed_step) == ("s1", True, "s2")


def test_a_pipeline_restored_from_the_changelog_continues_byte_identically(
    topology: Topology, codec: EventCodec, models: dict[str, type[EventModel]]
) -> None:
    whole = Scenario(Pipeline(topology, codec), codec, Proposer(topology, codec, models))
    run_until_failure_at(whole, 3)
    whole.report(CompensationCompleted(step="s2", agent="a2"), 11, causation=whole.last_request_id())

    first = Scenario(Pipeline(topology, codec), codec, Proposer(topology, codec, models))
    run_until_failure_at(first, 3)
    changelog = [o.value for o in first.written if o.topic == first.pipeline.topics.state]
    second_pipeline = Pipeline(topology, codec)
    assert second_pipeline.restore([v for v in changelog if v is not None]) == 1  # one workflow
    second = Scenario(second_pipeline, codec, first.proposer)
    second.report(CompensationCompleted(step="s2", agent="a2"), 11, causation=first.last_request_id())

    tail = whole.written[len(whole.written) - len(second.written) :]
    assert [(o.topic, o.partition, o.key, o.value, o.headers) for o in tail] == [
        (o.topic, o.partition, o.key, o.value, o.headers) for o in second.written
    ]
    assert {o.topic for o in tail} >= {whole.pipeline.topics.lifecycle, whole.pipeline.topics.decisions}


def test_the_orchestrators_events_are_written_as_the_codec_and_the_envelope_write_them(
    scenario: Scenario, codec: EventCodec
) -> None:
    # The driver writes its events' headers and values by hand: they must equal the general path's.
    run_until_failure_at(scenario, 4)
    for seconds, step in enumerate(("s3", "s2", "s1"), start=20):
        scenario.report(CompensationCompleted(step=step, agent="a"), seconds, scenario.last_request_id())
    topic = scenario.pipeline.topics.lifecycle
    own = [
        o
        for o in scenario.written
        if o.topic == topic and dict(o.headers)["ce_source"] == b"corps/orchestrator"
    ]
    assert {dict(o.headers)["ce_type"] for o in own} >= {
        m.event_type.encode() for m in (WorkflowStarted, CompensationRequested, WorkflowCompensated)
    }
    for written in own:
        event = codec.decode_any(as_raw(written), LIFECYCLE)
        assert written.headers == event.envelope.to_headers()
        assert written.value == codec.encode(topic, event.payload, event.envelope).value
        envelope = event.envelope
        assert (envelope.tenant, envelope.workflow_id, written.key) == ("acme", scenario.wf, b"wf-1")
        if isinstance(event.payload, CompensationRequested):
            assert envelope.step == event.payload.step
            assert envelope.causation_id == event.payload.original_event_id
        if isinstance(event.payload, WorkflowStarted):
            assert envelope.causation_id == event.payload.trigger_event_id
