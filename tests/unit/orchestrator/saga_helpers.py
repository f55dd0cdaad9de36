"""Topologies and helpers for the saga tests (pure: the saga never touches a broker)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from corps.orchestrator import (
    Command,
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DomainEventObserved,
    Observation,
    SagaMachine,
    StepFailedObserved,
    Transition,
    WorkflowState,
)
from corps.topology import Topology, parse_topology

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

# Four compensable steps in a line: A -s1-> B -s2-> C -s3-> D -s4-> E (E completes the workflow).
LINEAR = """
workflow: {name: linear, version: 1}
namespace: test.linear
topics: {partitions: 3}
defaults:
  timeout: 10s
  retry: {max_attempts: 1}
  compensation_timeout: 5s
  compensation_attempts: 3
  compensation_backoff: {initial: 1s, multiplier: 2, max: 10s}
agents: {a1: {}, a2: {}, a3: {}, a4: {}}
events: {A: {}, B: {}, C: {}, D: {}, E: {}, UB: {}, UC: {}, UD: {}, UE: {}}
start: [A]
complete: [E]
steps:
  s1: {agent: a1, on: A, emits: [B], compensation: UB}
  s2: {agent: a2, on: B, emits: [C], compensation: UC}
  s3: {agent: a3, on: C, emits: [D], compensation: UD}
  s4: {agent: a4, on: D, emits: [E], compensation: UE}
"""

# Like the demo: a pure step, a compensable one, a pure one, an irreversible one, then a last step.
MIXED = """
workflow: {name: mixed, version: 1}
namespace: test.mixed
topics: {partitions: 3}
defaults: {timeout: 10s, retry: {max_attempts: 1}, compensation_timeout: 5s, compensation_attempts: 2}
agents: {triage: {}, refunds: {}, writer: {}, sender: {}, closer: {}}
events: {Opened: {}, Triaged: {}, Refunded: {}, Reversed: {}, Drafted: {}, Sent: {}, Closed: {}}
start: [Opened]
complete: [Closed]
steps:
  triage: {agent: triage, on: Opened, emits: [Triaged], side_effects: false}
  refund: {agent: refunds, on: Triaged, emits: [Refunded], compensation: Reversed}
  draft: {agent: writer, on: Refunded, emits: [Drafted], side_effects: false}
  send: {agent: sender, on: Drafted, emits: [Sent], irreversible: true}
  close: {agent: closer, on: Sent, emits: [Closed], compensation: Reversed}
"""


def topology_of(text: str) -> Topology:
    return parse_topology(text, Path("test.yaml")).topology


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def domain(
    event_type: str, seconds: float, event_id: str | None = None, payload: str = "{}"
) -> DomainEventObserved:
    return DomainEventObserved(
        event_id=event_id or f"{event_type}-{seconds}",
        event_type=event_type,
        time=at(seconds),
        payload_json=payload,
    )


def step_failed(step: str, seconds: float, event_id: str | None = None) -> StepFailedObserved:
    return StepFailedObserved(
        event_id=event_id or f"fail-{step}-{seconds}",
        time=at(seconds),
        step=step,
        code="NON_RETRYABLE",
        reason="boom",
    )


def comp_done(step: str, seconds: float, causation: str | None = None) -> CompensationCompletedObserved:
    return CompensationCompletedObserved(
        event_id=f"undone-{step}-{seconds}", time=at(seconds), step=step, causation_id=causation
    )


def comp_failed(step: str, seconds: float, causation: str | None = None) -> CompensationFailedObserved:
    return CompensationFailedObserved(
        event_id=f"undo-failed-{step}-{seconds}",
        time=at(seconds),
        step=step,
        causation_id=causation,
        code="DEPENDENCY_UNAVAILABLE",
        reason="bank down",
    )


class Run:
    """Drives one workflow through a machine and keeps every command emitted."""

    def __init__(self, machine: SagaMachine, workflow_id: str = "wf-1") -> None:
        self.machine = machine
        self.state: WorkflowState = machine.new(workflow_id)
        self.log: list[Command] = []

    def feed(self, observation: Observation) -> tuple[Command, ...]:
        result: Transition = self.machine.apply(self.state, observation)
        self.state = result.state
        self.log.extend(result.commands)
        return result.commands

    def feed_all(self, observations: Iterable[Observation]) -> list[Command]:
        out: list[Command] = []
        for observation in observations:
            out.extend(self.feed(observation))
        return out


def kinds(commands: Iterable[Command]) -> list[str]:
    return [c.kind for c in commands]


def linear_until(run: Run, steps_done: int) -> None:
    """Start the linear workflow and let ``steps_done`` steps complete (event i at second i)."""
    run.feed(domain("A", 0))
    for index, event in enumerate("BCDE"[:steps_done], start=1):
        run.feed(domain(event, index, payload=f'{{"n": {index}}}'))
