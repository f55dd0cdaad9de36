"""Shadow runs call an agent's handlers on recorded events, substitute recorded calls, publish nothing."""

from __future__ import annotations

from typing import Any

import pytest
from replay_log import LogMaker

from corps.events import EventModel
from corps.replay import (
    CallRecord,
    CallTape,
    UnrecordedCallError,
    recording,
    replaying,
    shadow_run,
    tool_call,
)
from corps.runtime import Agent, handler


def agent_for(maker: LogMaker, transform: Any, *, version: str = "1", name: str = "a2") -> Agent:
    """Agent ``name`` handling B with ``transform(event) -> C``."""
    b_model, c_model = maker.models["B"], maker.models["C"]

    def on_b(event: EventModel) -> EventModel:
        return c_model(n=transform(event))  # type: ignore[call-arg]

    on_b.__annotations__ = {"event": b_model, "return": c_model}
    return Agent(name=name, version=version, handlers=[handler(on_b)])


def lookup(value: str) -> str:
    return value.replace(":B", ":C")


@pytest.fixture
def two() -> LogMaker:
    maker = LogMaker()
    maker.happy("wf-1")
    maker.happy("wf-2", 10)
    return maker


def test_the_same_agent_would_emit_what_it_emitted(two: LogMaker) -> None:
    agent = agent_for(two, lambda e: e.n.replace(":B", ":C"))
    report = shadow_run(agent, two.records(), two.codec, two.replay_topics)
    assert report.totals()["cases"] == 2
    assert report.totals()["same"] == 2
    assert [c.input.workflow for c in report.cases] == ["wf-1", "wf-2"]
    assert report.cases[0].would_emit == report.cases[0].emitted


def test_a_new_version_reports_each_difference_by_output_and_field(two: LogMaker) -> None:
    agent = agent_for(two, lambda e: e.n.upper(), version="2")
    report = shadow_run(agent, two.records(), two.codec, two.replay_topics, workflows={"wf-2": None})
    assert len(report.cases) == 1
    case = report.cases[0]
    assert case.differences == ["output 0 (C): n would be 'WF-2:B', was 'wf-2:C'"]
    assert report.lines()[-1]["different"] == 1


def test_a_raising_handler_is_a_difference_not_a_crash(two: LogMaker) -> None:
    def boom(_: Any) -> str:
        raise RuntimeError("upstream changed")

    report = shadow_run(agent_for(two, boom), two.records(), two.codec, two.replay_topics)
    assert report.totals()["errors"] == 2
    assert "RuntimeError: upstream changed" in report.cases[0].differences[0]


def test_recorded_calls_are_substituted_and_unrecorded_ones_refused(two: LogMaker) -> None:
    live_calls: list[str] = []

    def traced(value: str) -> str:
        live_calls.append(value)
        return lookup(value)

    agent = agent_for(two, lambda e: tool_call("crm.lookup", traced, e.n))
    # record: run the handler live once per input, as the runtime would with the seam bound
    sink: list[CallRecord] = []
    inputs = [r for r in two.records() if r.topic == "rp.B"]
    for raw in inputs:
        event = two.codec.decode(raw.raw(), two.models["B"])
        with recording(event.envelope.id, "a2", sink):
            agent.definitions[two.models["B"].event_type].fn(event.payload)
    assert len(sink) == 2
    live_calls.clear()
    tape = CallTape.from_jsonl([__import__("json").dumps(r.to_json()) for r in sink])
    report = shadow_run(agent, two.records(), two.codec, two.replay_topics, tape=tape)
    assert report.totals()["same"] == 2
    assert report.totals()["calls_recorded"] == 2
    assert live_calls == []  # nothing ran for real
    refused = shadow_run(agent, two.records(), two.codec, two.replay_topics, tape=CallTape())
    assert refused.totals()["errors"] == 2
    assert "not replayable" in (refused.cases[0].error or "")
    live = shadow_run(agent, two.records(), two.codec, two.replay_topics, live_calls=True)
    assert live.totals()["calls_live"] == 2
    assert live.totals()["same"] == 2


def test_tool_call_outside_a_binding_just_runs() -> None:
    assert tool_call("x", lookup, "a:B") == "a:C"


def test_replaying_checks_names_and_arguments() -> None:
    tape = CallTape([CallRecord("e1", "ag", 0, "llm", "0" * 64, {"label": "refund"})])
    with replaying("e1", "ag", tape) as uses:
        assert tool_call("llm", lambda: {"label": "live"}) == {"label": "refund"}
        with pytest.raises(UnrecordedCallError, match="call 1"):
            tool_call("llm", lambda: None)
    assert [(u.seq, u.how, u.args_match) for u in uses] == [(0, "recorded", False)]


def test_a_bad_calls_file_names_its_line() -> None:
    from corps.replay import ReplayInputError

    with pytest.raises(ReplayInputError, match=r"calls.jsonl:2"):
        CallTape.from_jsonl(
            ['{"event_id":"e","agent":"a","seq":0,"name":"n","args_sha256":"x","result":1}', '{"nope": 1}'],
            where="calls.jsonl",
        )
