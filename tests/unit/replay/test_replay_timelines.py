"""Timelines: events merged by id, ordered, with statuses, steps, durations, compensations; filters."""

from __future__ import annotations

import random

from replay_log import LogMaker, at

from corps.replay.builder import TimelineBuilder
from corps.replay.filters import RecordFilter
from corps.replay.timeline import Stage, WorkflowStatus, WorkflowTimeline


def build(
    maker: LogMaker, selection: RecordFilter | None = None, shuffle: int | None = None
) -> list[WorkflowTimeline]:
    records = maker.records()
    if shuffle is not None:
        random.Random(shuffle).shuffle(records)
    builder = TimelineBuilder(maker.topology, maker.replay_topics)
    builder.add_all(records)
    return builder.build(selection)


def by_id(timelines: list[WorkflowTimeline]) -> dict[str, WorkflowTimeline]:
    return {t.workflow_id: t for t in timelines}


def test_statuses_durations_and_order_of_workflows(maker: LogMaker) -> None:
    timelines = build(maker)
    assert [(t.workflow_id, t.status) for t in timelines] == [
        ("wf-1", WorkflowStatus.COMPLETED),
        ("wf-2", WorkflowStatus.COMPENSATED),
        ("wf-3", WorkflowStatus.COMPENSATED),
        ("wf-4", WorkflowStatus.FAILED),
    ]
    wf1 = timelines[0]
    assert wf1.started_at == at(0)
    assert wf1.finished_at == at(3)
    assert wf1.duration_ms == 3000


def test_copies_and_decisions_of_an_event_are_one_entry_in_chain_order(maker: LogMaker) -> None:
    wf1 = by_id(build(maker))["wf-1"]
    assert [e.name for e in wf1.entries] == ["A", "WorkflowStarted", "B", "C", "D", "WorkflowCompleted"]
    assert [e.decision.sequence for e in wf1.entries if e.decision] == [0, 1, 2, 3, 4, 5]
    a = wf1.entries[0]
    assert a.stage is Stage.ADMITTED
    assert a.locations == ["rp.A.proposed[0]@0", "rp.A[0]@0"]
    assert wf1.entries[1].stage is Stage.EMITTED
    assert wf1.entries[1].since_cause_ms == 0
    assert [(s.step, s.agent, s.event) for s in wf1.steps] == [
        ("s1", "a1", "B"),
        ("s2", "a2", "C"),
        ("s3", "a3", "D"),
    ]


def test_compensations_retries_and_failure_reason(maker: LogMaker) -> None:
    timelines = by_id(build(maker))
    wf2 = timelines["wf-2"]
    assert [(c.step, c.outcome) for c in wf2.compensations] == [
        ("s2", "requested"),
        ("s2", "completed"),
        ("s1", "requested"),
        ("s1", "completed"),
    ]
    assert wf2.failed_step == "s3"
    assert wf2.reason == "NON_RETRYABLE: boom"
    wf3 = timelines["wf-3"]
    assert [(c.step, c.outcome, c.attempt) for c in wf3.compensations] == [
        ("s1", "requested", 1),
        ("s1", "requested", 2),
        ("s1", "completed", None),
    ]
    assert wf3.retries == 1
    assert wf3.reason is not None
    assert wf3.reason.startswith("TIMEOUT")
    assert timelines["wf-4"].status is WorkflowStatus.FAILED


def test_the_order_records_arrive_in_does_not_matter(maker: LogMaker) -> None:
    def shape(timelines: list[WorkflowTimeline]) -> list[object]:
        return [
            (t.workflow_id, t.status, [(e.event_id, e.stage, e.locations) for e in t.entries])
            for t in timelines
        ]

    assert shape(build(maker, shuffle=1)) == shape(build(maker)) == shape(build(maker, shuffle=7))


def test_filter_by_workflow_and_tenant() -> None:
    maker = LogMaker()
    maker.happy("wf-a", tenant="acme")
    maker.happy("wf-b", 10, tenant="globex")
    maker.happy("wf-c", 20, tenant="acme")
    assert [t.workflow_id for t in build(maker, RecordFilter.of(workflows=["wf-b"]))] == ["wf-b"]
    assert [t.workflow_id for t in build(maker, RecordFilter.of(tenants=["acme"]))] == ["wf-a", "wf-c"]
    both = RecordFilter.of(tenants=["acme"], workflows=["wf-b", "wf-c"])
    assert [t.workflow_id for t in build(maker, both)] == ["wf-c"]


def test_filter_by_event_type_short_or_full_name(maker: LogMaker) -> None:
    short = build(maker, RecordFilter.of(event_types=["CompensationRequested"]))
    assert [t.workflow_id for t in short] == ["wf-2", "wf-3", "wf-4"]
    assert {e.name for t in short for e in t.entries} == {"CompensationRequested"}
    full = build(maker, RecordFilter.of(event_types=["test.rp.D"]))
    assert [(t.workflow_id, [e.name for e in t.entries]) for t in full] == [("wf-1", ["D"])]


def test_filter_by_agent_covers_emitted_events_steps_and_reports(maker: LogMaker) -> None:
    selection = RecordFilter.of(maker.topology, agents=["a1"])
    wf2 = by_id(build(maker, selection))["wf-2"]
    assert [e.name for e in wf2.entries] == ["B", "CompensationRequested", "UB", "CompensationCompleted"]
    # the request is addressed to a1 (its step s1), the rest a1 emitted


def test_a_denied_event_makes_a_denied_workflow() -> None:
    from corps.orchestrator.pipeline import Pipeline
    from corps.orchestrator.policy import Decision, GateContext, ProposedEvent

    class NoSpam:
        def decide(self, event: ProposedEvent, context: GateContext) -> Decision:
            if event.envelope.tenant == "spammer":
                return Decision.deny("tenant blocked")
            return Decision.allow("ok")

    maker = LogMaker()
    maker.pipeline = Pipeline(maker.topology, maker.codec, policy=NoSpam())
    maker.propose("A", "wf-x", 0, tenant="spammer")
    maker.happy("wf-y", 5)
    timelines = by_id(build(maker))
    denied = timelines["wf-x"]
    assert denied.status is WorkflowStatus.DENIED
    assert denied.reason == "tenant blocked"
    assert [(e.name, e.stage) for e in denied.entries] == [("A", Stage.DENIED)]
    assert timelines["wf-y"].status is WorkflowStatus.COMPLETED
