"""`corps agent run`: loading MODULE:ATTR, and routing/steps/retries derived from the demo topology."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from corps.cli.agent import load_agent, routing_from_topology
from corps.cli.main import cli
from corps.runtime.settings import AgentSettings
from corps.topology import load_topology

REPO = Path(__file__).resolve().parents[3]


def test_load_agent_finds_the_example_agents() -> None:
    found = load_agent("services.support_agents.refunds:agent")
    assert found.name == "refunds"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no-colon", "is not MODULE:ATTR"),
        ("services.support_agents.nope:agent", "cannot import"),
        ("services.support_agents.triage:missing", "has no attribute"),
        ("services.support_agents.triage:triage", "not a corps.runtime.Agent"),
    ],
)
def test_bad_targets_say_what_is_wrong(target: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        load_agent(target)


def test_routing_from_the_support_topology() -> None:
    topology = load_topology(REPO / "topology" / "support.yaml").topology
    refunds = load_agent("services.support_agents.refunds:agent")
    values = routing_from_topology(topology, refunds)
    settings = AgentSettings.model_validate(
        {**values, "kafka": {"bootstrap_servers": "k:9092"}, "registry": {"url": "http://r"}}
    )
    routing = settings.routing
    assert routing.inputs == {
        "demo.support.TicketTriaged": "support.TicketTriaged",
        "corps.lifecycle.CompensationRequested": "support.lifecycle",
    }
    assert routing.outputs == {
        "demo.support.RefundIssued": "support.RefundIssued.proposed",
        "demo.support.RefundReversed": "support.RefundReversed.proposed",
    }
    assert routing.lifecycle == "support.lifecycle.proposed"
    assert routing.steps == {"demo.support.TicketTriaged": "refund"}
    assert routing.subject("support.lifecycle.proposed", "corps.lifecycle.StepFailed") == (
        "support.lifecycle.proposed-corps.lifecycle.StepFailed"
    )
    step = settings.handlers["demo.support.TicketTriaged"]
    assert step.retry is not None
    assert (step.retry.max_attempts, step.retry.initial_delay, step.retry.max_delay, step.timeout_s) == (
        5,
        0.5,
        5,
        20,
    )
    comp = settings.handlers["corps.lifecycle.CompensationRequested"]
    assert comp.retry is not None
    assert (comp.retry.max_attempts, comp.timeout_s) == (3, 30)


def test_run_help_is_there_for_a_newcomer() -> None:
    result = CliRunner().invoke(cli, ["agent", "run", "--help"])
    assert result.exit_code == 0
    assert "MODULE:ATTR" in result.output
    assert "--topology" in result.output


def test_topology_names_the_runtime_topics_per_workflow() -> None:
    topology = load_topology(REPO / "topology" / "support.yaml").topology
    values = routing_from_topology(topology, load_agent("services.support_agents.triage:agent"))
    topics = AgentSettings.model_validate(
        {**values, "kafka": {"bootstrap_servers": "k:9092"}, "registry": {"url": "http://r"}}
    ).topics
    assert topics.retry_template.format(agent="triage", tier=1) == "support.triage.retry.1"
    assert topics.dead_letter_template.format(agent="triage") == "support.triage.dlq"
