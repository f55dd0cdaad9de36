"""`corps replay --through MODULE:AGENT` on the real log: recorded calls substituted, nothing published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.replay.replay_kafka import KafkaLog, lines

from corps.replay import CallRecord, recording
from corps.runtime.definition import definition_of

pytestmark = pytest.mark.integration


@pytest.fixture
def recorded(fresh_log: KafkaLog, tmp_path: Path) -> tuple[KafkaLog, Path]:
    from tests.integration.replay import shadow_agents

    maker = fresh_log.maker
    maker.happy("wf-1")
    maker.happy("wf-2", 10, partition=1)
    fresh_log.write()
    # the calls v1 made live (what the runtime records through the seam)
    sink: list[CallRecord] = []
    fn = definition_of(shadow_agents.on_b_v1).fn
    for raw in [r for r in maker.log if r.topic == fresh_log.topic("B")]:
        event = maker.codec.decode(raw, shadow_agents.B)
        with recording(event.envelope.id, "a2", sink):
            fn(event.payload)
    calls = tmp_path / "calls.jsonl"
    calls.write_text("".join(json.dumps(c.to_json()) + "\n" for c in sink), encoding="utf-8")
    return fresh_log, calls


def sizes(log: KafkaLog) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**log.config, "group.id": "sizes"})
    try:
        total = 0
        for topic in (log.topic("C"), log.topic("C.proposed")):
            for partition in (0, 1):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                total += high - low
        return total
    finally:
        consumer.close()


def test_the_recorded_version_would_emit_the_same(recorded: tuple[KafkaLog, Path]) -> None:
    log, calls = recorded
    before = sizes(log)
    result = log.replay(
        "--format",
        "jsonl",
        "--through",
        "tests.integration.replay.shadow_agents:agent_v1",
        "--calls",
        str(calls),
    )
    assert result.exit_code == 0, result.output
    summary = next(o for o in lines(result) if o["record"] == "shadow-summary")
    assert summary == {
        "record": "shadow-summary",
        "agent": "a2",
        "version": "1.0",
        "cases": 2,
        "same": 2,
        "different": 0,
        "errors": 0,
        "calls_recorded": 2,
        "calls_live": 0,
    }
    assert sizes(log) == before  # nothing was published


def test_a_new_version_reports_what_it_would_emit_differently(recorded: tuple[KafkaLog, Path]) -> None:
    log, calls = recorded
    result = log.replay(
        "--through", "tests.integration.replay.shadow_agents:agent_v2", "--calls", str(calls), "--no-events"
    )
    assert result.exit_code == 0, result.output
    assert "2 event(s), 0 the same, 2 different" in result.stdout
    assert "differences between would-emit and emitted" in result.stdout
    as_json = log.replay(
        "--format",
        "jsonl",
        "--through",
        "tests.integration.replay.shadow_agents:agent_v2",
        "--calls",
        str(calls),
    )
    cases = {o["workflow_id"]: o["differences"] for o in lines(as_json) if o["record"] == "shadow"}
    assert cases == {
        "wf-1": ["output 0 (C): n would be 'WF-1:C', was 'wf-1:C'"],
        "wf-2": ["output 0 (C): n would be 'WF-2:C', was 'wf-2:C'"],
    }


def test_unrecorded_calls_are_refused_unless_live(recorded: tuple[KafkaLog, Path]) -> None:
    log, _ = recorded
    refused = log.replay("--format", "jsonl", "--through", "tests.integration.replay.shadow_agents:agent_v1")
    summary = next(o for o in lines(refused) if o["record"] == "shadow-summary")
    assert summary["errors"] == 2
    live = log.replay(
        "--format", "jsonl", "--through", "tests.integration.replay.shadow_agents:agent_v1", "--live-calls"
    )
    summary = next(o for o in lines(live) if o["record"] == "shadow-summary")
    assert (summary["same"], summary["calls_live"]) == (2, 2)


def test_a_bad_agent_target_is_a_clear_error(recorded: tuple[KafkaLog, Path]) -> None:
    log, _ = recorded
    result = log.replay("--through", "no_such_module:agent")
    assert result.exit_code == 2
    assert "cannot import 'no_such_module'" in result.output
