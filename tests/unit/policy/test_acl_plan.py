"""ACL planning: each principal gets exactly what its part of the topology needs."""

from __future__ import annotations

from pathlib import Path

from policy_helpers import REPO

from corps.policy.acl import AclSettings, Operation, PatternType, ResourceType, plan_acls
from corps.policy.acl_apply import to_binding
from corps.topology import load_topology

TOPOLOGY = load_topology(REPO / "topology" / "support.yaml").topology


def grants(principal: str, settings: AclSettings | None = None) -> set[tuple[str, str, str, str]]:
    return {
        (e.operation.value, e.resource_type.value, e.pattern.value, e.name)
        for e in plan_acls(TOPOLOGY, settings)
        if e.principal == principal
    }


def topics(principal: str, operation: str) -> set[str]:
    return {name for op, kind, _, name in grants(principal) if op == operation and kind == "topic"}


def test_an_agent_reads_only_its_admitted_inputs() -> None:
    assert topics("User:refunds", "read") == {
        "support.TicketTriaged",  # its step's trigger
        "support.lifecycle",  # CompensationRequested: refunds has a compensable step
        "refunds.retry.",  # its own retry topics (prefix)
        "corps.agents",
    }
    assert topics("User:writer", "read") == {"support.RefundIssued", "writer.retry.", "corps.agents"}


def test_an_agent_writes_only_proposed_topics_of_what_it_emits() -> None:
    assert topics("User:refunds", "write") == {
        "support.RefundIssued.proposed",
        "support.RefundReversed.proposed",  # its compensation event
        "support.lifecycle.proposed",
        "refunds.retry.",
        "refunds.dlq",
        "corps.agents",
    }


SERVICE = "User:corps-orchestrator"


def test_no_agent_writes_an_admitted_topic_or_the_decision_log() -> None:
    admitted = {f"support.{e}" for e in TOPOLOGY.events} | {"support.decisions"}
    for entry in plan_acls(TOPOLOGY):
        if entry.operation is Operation.WRITE and entry.name in admitted:
            assert entry.principal == SERVICE, entry


def test_no_agent_reads_another_agents_input() -> None:
    for agent in TOPOLOGY.agents:
        own = {f"support.{s.on}" for s in TOPOLOGY.steps.values() if s.agent == agent}
        reads = {
            t
            for t in topics(f"User:{agent}", "read")
            if t.startswith("support.") and t != "support.lifecycle"
        }
        assert reads == own, agent


def test_agent_groups_and_transactional_ids() -> None:
    g = grants("User:triage")
    assert ("read", "group", "literal", "triage") in g
    assert ("write", "transactional_id", "prefixed", "corps-triage-") in g
    assert ("read", "group", "prefixed", "corps-agents-") in g


def test_the_gate_reads_every_proposed_topic_and_writes_every_admitted_one() -> None:
    events = set(TOPOLOGY.events)
    assert {f"support.{e}.proposed" for e in events} | {"support.lifecycle.proposed"} <= topics(
        SERVICE, "read"
    )
    assert topics(SERVICE, "write") >= {f"support.{e}" for e in events} | {"support.decisions"}
    assert ("read", "topic", "literal", "corps.policies") in grants(SERVICE)


def test_the_orchestrator_and_clients() -> None:
    # gate + orchestrator are one process with one transactional producer: one principal, which also
    # owns the service's changelog and dead letters (names from corps.topology.naming)
    writes = topics(SERVICE, "write")
    assert {"support.lifecycle", "support.orchestrator.state", "support.gate.dlq"} <= writes
    assert ("write", "transactional_id", "prefixed", "corps-orchestrator") in grants(SERVICE)
    assert ("read", "group", "prefixed", "corps-gate") in grants(SERVICE)  # corps-gate-policies.<set>
    # a rejected approval proposes StepFailed for its step, through the gate like an agent's report
    assert "support.lifecycle.proposed" in writes
    assert topics("User:corps-client", "write") == {"support.TicketOpened.proposed"}
    assert grants("User:corps-client") == {("write", "topic", "literal", "support.TicketOpened.proposed")}


def test_plan_is_sorted_and_unique() -> None:
    plan = plan_acls(TOPOLOGY)
    bindings = [e.binding for e in plan]
    assert bindings == sorted(bindings)
    assert len(bindings) == len(set(bindings))


def test_settings_rename_principals_and_templates() -> None:
    settings = AclSettings(agent_principal="User:agent-{agent}", agent_retry_prefix="retry.{agent}.")
    assert ("read", "topic", "prefixed", "retry.sender.") in grants("User:agent-sender", settings)


def test_bindings_for_the_admin_client() -> None:
    entry = next(e for e in plan_acls(TOPOLOGY) if e.pattern is PatternType.PREFIXED)
    binding = to_binding(entry)
    assert binding.name == entry.name
    assert binding.principal == entry.principal
    assert binding.host == "*"
    assert binding.resource_pattern_type.name == "PREFIXED"
    assert {e.resource_type for e in plan_acls(TOPOLOGY)} == set(ResourceType)


def test_defaults_match_the_runtime(tmp_path: Path) -> None:
    from corps.runtime.settings import TopicSettings

    runtime = TopicSettings()
    settings = AclSettings()
    assert settings.agent_dead_letter == runtime.dead_letter_template
    assert runtime.retry_template.startswith(settings.agent_retry_prefix)
    assert settings.agent_registry == runtime.registry
