"""Every filter of `corps replay` on the real broker: workflow, tenant, agent, event type, topics."""

from __future__ import annotations

import pytest
from tests.integration.replay.replay_kafka import KafkaLog, lines

pytestmark = pytest.mark.integration


@pytest.fixture
def tenants(fresh_log: KafkaLog) -> KafkaLog:
    maker = fresh_log.maker
    maker.happy("wf-a", tenant="acme")
    maker.happy("wf-b", 10, tenant="globex", partition=1)
    maker.compensated("wf-c", 20)
    fresh_log.write()
    return fresh_log


def replay(log: KafkaLog, *args: str) -> tuple[list[str], dict[str, list[str]]]:
    result = log.replay("--format", "jsonl", *args)
    assert result.exit_code == 0, result.output
    objects = lines(result)
    workflows = [o["workflow_id"] for o in objects if o["record"] == "workflow"]
    events: dict[str, list[str]] = {}
    for o in objects:
        if o["record"] == "event":
            events.setdefault(o["workflow_id"], []).append(o["name"])
    return workflows, events


def test_no_filter_shows_everything(tenants: KafkaLog) -> None:
    workflows, events = replay(tenants)
    assert workflows == ["wf-a", "wf-b", "wf-c"]
    assert events["wf-a"] == ["A", "WorkflowStarted", "B", "C", "D", "WorkflowCompleted"]


def test_workflow_filter(tenants: KafkaLog) -> None:
    assert replay(tenants, "--workflow", "wf-b")[0] == ["wf-b"]
    assert replay(tenants, "--workflow", "wf-a,wf-c")[0] == ["wf-a", "wf-c"]


def test_tenant_filter(tenants: KafkaLog) -> None:
    assert replay(tenants, "--tenant", "globex")[0] == ["wf-b"]
    assert replay(tenants, "--tenant", "acme")[0] == ["wf-a", "wf-c"]


def test_agent_filter(tenants: KafkaLog) -> None:
    workflows, events = replay(tenants, "--agent", "a3")
    assert workflows == ["wf-a", "wf-b", "wf-c"]
    assert events["wf-a"] == ["D"]
    assert events["wf-c"] == ["StepFailed"]  # a3 reported the failure of its step


def test_event_type_filter(tenants: KafkaLog) -> None:
    workflows, events = replay(tenants, "--type", "WorkflowCompensated")
    assert workflows == ["wf-c"]
    assert events == {"wf-c": ["WorkflowCompensated"]}
    _, events = replay(tenants, "--type", "test.rp.B", "--tenant", "acme")
    assert events == {"wf-a": ["B"], "wf-c": ["B"]}


def test_topics_filter_by_role(tenants: KafkaLog) -> None:
    result = tenants.replay("--format", "jsonl", "--topics", "lifecycle")
    assert result.exit_code == 0, result.output
    header = lines(result)[0]
    assert header["topics"] == [tenants.topic("lifecycle")]
    names = {o["name"] for o in lines(result) if o["record"] == "event"}
    assert names == {
        "WorkflowStarted",
        "WorkflowCompleted",
        "StepFailed",
        "CompensationRequested",
        "CompensationCompleted",
        "WorkflowCompensated",
    }


def test_an_unknown_topic_is_a_clear_error(tenants: KafkaLog) -> None:
    result = tenants.replay("--topics", "nope")
    assert result.exit_code == 1
    assert "'nope' is not a topic of workflow" in result.output
