"""Least privilege, planning side: the Kafka ACLs a topology needs, derived from its steps.

Every agent runs as principal ``User:<agent>``: it reads only the admitted topics of the events its
steps react to (plus its consumer group, its own retry topics) and writes only the proposed topics of
what its steps emit (plus the proposed lifecycle topic for StepFailed / Compensation* reports). Only the
gate principal writes admitted topics of events and the decision log; the orchestrator reads admitted
topics and writes the admitted lifecycle topic (WorkflowStarted, CompensationRequested ...). Both stages
run in one process (``corps orchestrator run``) with one transactional producer, so by default they are
one principal, ``User:corps-orchestrator``, which also owns the service's changelog
(``<wf>.orchestrator.state``) and dead letters (``<wf>.gate.dlq``), its consumer groups and
transactional ids (``corps-orchestrator.<wf>…``) and its policy-feed group (``corps-gate-policies…``). Clients
write only the proposed topics of the events that start a workflow. Anything not allowed is refused once
the broker runs an authorizer with ``allow.everyone.if.no.acl.found=false``.

READ and WRITE imply DESCRIBE in Kafka, so DESCRIBE is not listed. Idempotent producers need only WRITE
on their topics (Kafka >= 3.0, KIP-679); transactional ones WRITE on their transactional id.

The broker side (the provisioner's secure mode, still to be built) — checked on Kafka 4.4.0 in KRaft
combined mode with ``tests/integration/policy/test_acl_secure_broker.py``; ``server.properties`` differs
from the plain one in::

    listeners=SASL_PLAINTEXT://127.0.0.1:<port>,CONTROLLER://127.0.0.1:<cport>
    advertised.listeners=SASL_PLAINTEXT://127.0.0.1:<port>
    inter.broker.listener.name=SASL_PLAINTEXT
    listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
    sasl.enabled.mechanisms=PLAIN
    sasl.mechanism.inter.broker.protocol=PLAIN
    listener.name.sasl_plaintext.plain.sasl.jaas.config=\
        org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" \
        password="<a>" user_admin="<a>" user_triage="<t>" user_corps-orchestrator="<o>" ...;
    authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
    allow.everyone.if.no.acl.found=false
    super.users=User:admin;User:ANONYMOUS

(one ``user_<principal>`` per agent, gate, orchestrator, client and admin; dashes in names work).
``User:ANONYMOUS`` is the controller listener's principal while that listener stays PLAINTEXT on
127.0.0.1; to drop it, put the controller listener on SASL too (``sasl.mechanism.controller.protocol``).
Topics, ACLs and policy sets are then created as the admin; clients set ``KAFKA_SECURITY_PROTOCOL=
SASL_PLAINTEXT``, ``KAFKA_SASL_MECHANISM=PLAIN``, ``KAFKA_SASL_USERNAME`` / ``KAFKA_SASL_PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from corps.topology import Topology, admitted_topic, decision_topic, lifecycle_topic, proposed_topic
from corps.topology.naming import Stage, gate_dead_letter_topic, policy_topic, state_topic

__all__ = ["AclEntry", "AclSettings", "Operation", "PatternType", "ResourceType", "plan_acls"]


class ResourceType(StrEnum):
    """Kafka resource types corps grants on."""

    TOPIC = "topic"
    GROUP = "group"
    TRANSACTIONAL_ID = "transactional_id"


class PatternType(StrEnum):
    """Whether the resource name is exact or a prefix."""

    LITERAL = "literal"
    PREFIXED = "prefixed"


class Operation(StrEnum):
    """Operations corps grants."""

    READ = "read"
    WRITE = "write"
    CREATE = "create"


@dataclass(frozen=True, order=True, slots=True)
class AclEntry:
    """One ALLOW binding: ``principal`` may do ``operation`` on a resource, from any host.

    Attributes:
        principal: ``User:<name>``.
        resource_type: Topic, group or transactional id.
        pattern: Literal name or prefix.
        name: The resource name (or prefix).
        operation: What is allowed.
        why: Which part of the topology needs it.
    """

    principal: str
    resource_type: ResourceType
    pattern: PatternType
    name: str
    operation: Operation
    why: str = ""

    @property
    def binding(self) -> tuple[str, str, str, str, str]:
        """The binding without the explanation (what the broker stores)."""
        return (self.principal, self.resource_type, self.pattern, self.name, self.operation)


class AclSettings(BaseModel):
    """Principals and the names of the runtime's own resources (defaults match corps' defaults).

    ``{agent}`` is substituted in the agent templates.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gate: str = "User:corps-orchestrator"
    orchestrator: str = "User:corps-orchestrator"
    client: str = "User:corps-client"
    policy_admin: str = "User:corps-admin"
    agent_principal: str = "User:{agent}"
    agent_group: str = "{agent}"
    agent_retry_prefix: str = "{agent}.retry."
    agent_dead_letter: str = "{agent}.dlq"
    agent_transactional_prefix: str = "corps-{agent}-"
    agent_registry: str = "corps.agents"
    agent_presence_group_prefix: str = "corps-agents-"
    gate_prefix: str = "corps-gate"
    orchestrator_prefix: str = "corps-orchestrator"


T, G, X = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
LIT, PRE = PatternType.LITERAL, PatternType.PREFIXED
R, W, C = Operation.READ, Operation.WRITE, Operation.CREATE


def _service(principal: str, prefix: str, what: str) -> list[AclEntry]:
    """A service's consumer groups, transactional ids and state (changelog) topics, by name prefix."""
    return [
        AclEntry(principal, G, PRE, prefix, R, f"{what} consumer groups"),
        AclEntry(principal, X, PRE, prefix, W, f"{what} transactional producers"),
        *(AclEntry(principal, T, PRE, prefix, op, f"{what} state / changelog topics") for op in (R, W, C)),
    ]


def _agents(topology: Topology, s: AclSettings) -> list[AclEntry]:
    wf = topology.workflow.name
    entries: list[AclEntry] = []
    for step_name, step in sorted(topology.steps.items()):
        who = s.agent_principal.format(agent=step.agent)
        entries.append(
            AclEntry(who, T, LIT, admitted_topic(wf, step.on), R, f"step {step_name} reacts to {step.on}")
        )
        entries.extend(
            AclEntry(who, T, LIT, proposed_topic(wf, event), W, f"step {step_name} emits {event}")
            for event in step.emits
        )
        if step.compensation is not None:
            comp = step.compensation.event
            entries.append(
                AclEntry(
                    who, T, LIT, proposed_topic(wf, comp), W, f"step {step_name} compensates with {comp}"
                )
            )
            entries.append(
                AclEntry(who, T, LIT, lifecycle_topic(wf), R, f"CompensationRequested for step {step_name}")
            )
    for agent in sorted({step.agent for step in topology.steps.values()}):
        who = s.agent_principal.format(agent=agent)
        fill = {"agent": agent}
        entries += [
            AclEntry(
                who, T, LIT, lifecycle_topic(wf, Stage.PROPOSED), W, "StepFailed / Compensation* reports"
            ),
            AclEntry(who, G, LIT, s.agent_group.format(**fill), R, "the agent's consumer group"),
            AclEntry(who, X, PRE, s.agent_transactional_prefix.format(**fill), W, "exactly-once producers"),
            *(
                AclEntry(who, T, PRE, s.agent_retry_prefix.format(**fill), op, "retry topics")
                for op in (R, W, C)
            ),
            *(AclEntry(who, T, LIT, s.agent_dead_letter.format(**fill), op, "dead letters") for op in (W, C)),
            *(AclEntry(who, T, LIT, s.agent_registry, op, "agent registry heartbeats") for op in (R, W)),
            AclEntry(who, G, PRE, s.agent_presence_group_prefix, R, "agent registry readers"),
        ]
    return entries


def plan_acls(topology: Topology, settings: AclSettings | None = None) -> tuple[AclEntry, ...]:
    """Every ALLOW binding ``topology`` needs, sorted, without duplicates (the first reason kept)."""
    s = settings or AclSettings()
    wf = topology.workflow.name
    events = sorted(topology.events)
    entries = _agents(topology, s)
    for event in events:
        entries += [
            AclEntry(s.gate, T, LIT, proposed_topic(wf, event), R, f"the gate decides about {event}"),
            AclEntry(s.gate, T, LIT, admitted_topic(wf, event), W, f"only the gate admits {event}"),
            AclEntry(s.orchestrator, T, LIT, admitted_topic(wf, event), R, f"workflow state follows {event}"),
        ]
    entries += [
        AclEntry(
            s.gate, T, LIT, lifecycle_topic(wf, Stage.PROPOSED), R, "the gate decides about agents' reports"
        ),
        AclEntry(s.gate, T, LIT, lifecycle_topic(wf), W, "the gate admits agents' reports"),
        AclEntry(
            s.gate,
            T,
            LIT,
            lifecycle_topic(wf, Stage.PROPOSED),
            W,
            "StepFailed for a step whose output an approval rejected",
        ),
        AclEntry(s.gate, T, LIT, decision_topic(wf), W, "the decision log"),
        *(
            AclEntry(s.gate, T, LIT, gate_dead_letter_topic(wf), op, "the gate's dead letters")
            for op in (W, C)
        ),
        *(
            AclEntry(who, T, LIT, state_topic(wf), op, "workflow records (chain heads, parked events)")
            for who in (s.gate, s.orchestrator)
            for op in (R, W, C)
        ),
        AclEntry(s.gate, T, LIT, policy_topic(), R, "policy-set versions"),
        *_service(s.gate, s.gate_prefix, "the gate's"),
        AclEntry(s.orchestrator, T, LIT, lifecycle_topic(wf), R, "workflow state follows lifecycle events"),
        AclEntry(
            s.orchestrator, T, LIT, lifecycle_topic(wf), W, "WorkflowStarted / CompensationRequested ..."
        ),
        *_service(s.orchestrator, s.orchestrator_prefix, "the orchestrator's"),
        *(AclEntry(s.policy_admin, T, LIT, policy_topic(), op, "corps policy apply") for op in (R, W, C)),
    ]
    for event in sorted(topology.start):
        entries.append(
            AclEntry(s.client, T, LIT, proposed_topic(wf, event), W, f"clients start workflows with {event}")
        )
    unique: dict[tuple[str, str, str, str, str], AclEntry] = {}
    for entry in entries:
        unique.setdefault(entry.binding, entry)
    return tuple(sorted(unique.values(), key=lambda e: e.binding))
