"""The operators' timeline is built from decision and lifecycle records alone (pure join)."""

from __future__ import annotations

from gate_helpers import Proposer, as_raw, at, models_for, offline_codec, topology_of

from corps.events import Envelope, EventModel
from corps.events.lifecycle import EVENTS, CompensationCompleted, PolicyDecision, StepFailed
from corps.events.model import models_by_type
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.topics import OutRecord
from corps.orchestrator.view import build_timeline, status_of


def test_timeline_joins_decisions_and_lifecycle_events_with_step_and_compensation_spans() -> None:
    topology = topology_of()
    models = models_for(topology)
    codec = offline_codec(topology, models)
    proposer = Proposer(topology, codec, models)
    pipeline = Pipeline(topology, codec)
    written: list[OutRecord] = []

    def feed(raw: object, seconds: float) -> None:
        pipeline.handle(raw, at(seconds))  # type: ignore[arg-type]
        written.extend(pipeline.outputs)
        pipeline.commit()

    feed(proposer.domain("A", "wf-1", 0, event_id="a"), 0)
    feed(proposer.domain("B", "wf-1", 1, step="s1", event_id="b"), 1)
    feed(proposer.domain("C", "wf-1", 3, step="s2", event_id="c"), 3)
    failed = StepFailed(
        step="s3", agent="a3", code="NON_RETRYABLE", attempts=1, last_error="boom", retryable=False
    )
    feed(proposer.report(failed, "wf-1", 4, event_id="f"), 4)
    for n, step in enumerate(("s2", "s1"), start=1):
        request = [
            o for o in written if dict(o.headers).get("ce_type") == b"corps.lifecycle.CompensationRequested"
        ][-1]
        cause = dict(request.headers)["ce_id"]
        assert cause is not None
        done = CompensationCompleted(step=step, agent=f"a{step[1]}")
        feed(
            proposer.report(done, "wf-1", 4 + n * 0.5, causation_id=cause.decode(), event_id=f"done-{step}"),
            4 + n * 0.5,
        )

    topics = pipeline.topics
    decisions: list[tuple[Envelope, PolicyDecision]] = []
    lifecycle: list[tuple[Envelope, EventModel]] = []
    for out in written:
        if out.topic == topics.decisions:
            event = codec.decode(as_raw(out), PolicyDecision)
            decisions.append((event.envelope, event.payload))
        elif out.topic == topics.lifecycle:
            any_event = codec.decode_any(as_raw(out), models_by_type(EVENTS))
            lifecycle.append((any_event.envelope, any_event.payload))
    record = pipeline.store.get("wf-1")
    assert record is not None
    timeline = build_timeline(record, reversed(decisions), lifecycle, topology)

    assert status_of(record) == "compensated"
    assert [e.sequence for e in timeline.entries] == list(range(len(decisions)))
    assert [e.name for e in timeline.entries] == [
        "A",
        "WorkflowStarted",
        "B",
        "C",
        "StepFailed",
        "CompensationRequested",
        "CompensationCompleted",
        "CompensationRequested",
        "CompensationCompleted",
        "WorkflowCompensated",
    ]
    by_name = {e.name: e for e in timeline.entries}
    assert by_name["StepFailed"].detail == "NON_RETRYABLE: boom"
    assert by_name["WorkflowCompensated"].detail == "undone: s2, s1"
    assert by_name["WorkflowStarted"].source == "corps/orchestrator"
    assert all(e.effect == "ALLOW" for e in timeline.entries)
    spans = [
        (s.what, s.step, s.outcome, s.duration.total_seconds() if s.duration else None)
        for s in timeline.spans
    ]
    assert spans == [
        ("step", "s1", "done", 1.0),
        ("step", "s2", "done", 2.0),
        ("step", "s3", "failed (NON_RETRYABLE: boom)", 1.0),
        ("compensation", "s2", "undone", 0.5),
        ("compensation", "s1", "undone", 0.5),
    ]
