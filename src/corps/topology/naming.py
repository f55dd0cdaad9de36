"""The topic naming convention, in one place: every component asks here, none builds names itself.

For workflow ``support`` and event type ``TicketOpened``:

* ``support.TicketOpened.proposed`` — the proposed topic: agents and clients write here;
* ``support.TicketOpened`` — the admitted topic: only the gate writes here; agents read here;
* ``support.lifecycle.proposed`` / ``support.lifecycle`` — lifecycle events (StepFailed,
  Compensation*, Workflow*) proposed by agents, admitted by the gate, written directly by the
  orchestrator;
* ``support.decisions`` — the gate's decision log (one record per proposed event, hash-chained);
* ``support.orchestrator.state`` — the gate + orchestrator's compacted changelog (workflow records);
* ``support.gate.dlq`` — records the gate cannot read (dead letters with reasons);
* ``corps.policies`` — published policy sets, compacted, shared by every workflow (``policy_topic``).

Event types are PascalCase and the orchestrator's streams lower case, so the two can never collide. The
schema registry subject of a topic is ``<topic>-value`` (the TopicNameStrategy).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Stage",
    "admitted_topic",
    "decision_topic",
    "gate_dead_letter_topic",
    "lifecycle_topic",
    "policy_topic",
    "proposed_topic",
    "state_topic",
    "subject_for",
    "topic_name",
]

LIFECYCLE = "lifecycle"
DECISIONS = "decisions"
STATE = "orchestrator.state"
GATE_DEAD_LETTERS = "gate.dlq"
POLICIES = "corps.policies"
_PROPOSED_SUFFIX = "proposed"


class Stage(StrEnum):
    """Which side of the gate a topic is on."""

    PROPOSED = "proposed"
    ADMITTED = "admitted"


def topic_name(workflow: str, stream: str, stage: Stage) -> str:
    """The topic of ``stream`` (an event type, ``lifecycle`` or ``decisions``) of ``workflow``.

    Args:
        workflow: the workflow name from the topology (``support``).
        stream: an event type (``TicketOpened``) or one of the orchestrator's streams.
        stage: proposed (written by agents and clients) or admitted (written only by the gate).
    """
    base = f"{workflow}.{stream}"
    return f"{base}.{_PROPOSED_SUFFIX}" if stage is Stage.PROPOSED else base


def admitted_topic(workflow: str, event: str) -> str:
    """The topic agents read ``event`` from."""
    return topic_name(workflow, event, Stage.ADMITTED)


def proposed_topic(workflow: str, event: str) -> str:
    """The topic agents and clients write ``event`` to."""
    return topic_name(workflow, event, Stage.PROPOSED)


def lifecycle_topic(workflow: str, stage: Stage = Stage.ADMITTED) -> str:
    """The lifecycle topic of ``workflow`` (proposed: agents' StepFailed / Compensation* reports)."""
    return topic_name(workflow, LIFECYCLE, stage)


def decision_topic(workflow: str) -> str:
    """The gate's decision log of ``workflow`` (only the gate writes it; there is no proposed side)."""
    return topic_name(workflow, DECISIONS, Stage.ADMITTED)


def state_topic(workflow: str) -> str:
    """The compacted changelog of the gate + orchestrator's workflow records."""
    return topic_name(workflow, STATE, Stage.ADMITTED)


def gate_dead_letter_topic(workflow: str) -> str:
    """Where the gate puts proposed records it cannot read."""
    return topic_name(workflow, GATE_DEAD_LETTERS, Stage.ADMITTED)


def subject_for(topic: str) -> str:
    """The registry subject of a topic's values (TopicNameStrategy)."""
    return f"{topic}-value"


def policy_topic() -> str:
    """The compacted topic of published policy sets (key: set name), one per cluster."""
    return POLICIES
