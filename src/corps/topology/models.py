"""Typed, frozen models of a topology file: the declared shape of one choreography.

A topology names its workflow, the event types (each with an Avro schema), the agents, the steps (which
agent reacts to which event, what it emits, how long it may take, how it is retried, how it is undone),
what starts and what completes a workflow, the topics' partitions / replication / retention, and the
policy files that apply. Cross-references (unknown agents, events, schemas, reachability) are checked by
:mod:`corps.topology.validate`; these models check the shape of each value.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from corps.topology._durations import FOREVER_SPAN, Duration, Retention

__all__ = [
    "Agent",
    "Approval",
    "Backoff",
    "Compensation",
    "Defaults",
    "EventType",
    "RetryPolicy",
    "Step",
    "TopicOverride",
    "Topics",
    "Topology",
    "WorkflowInfo",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

LowerName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
"""Workflow names: lower case, digits and dashes (they become part of topic names)."""
StepName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
"""Step and agent names."""
EventName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z0-9]{0,99}$")]
"""Event type names: PascalCase, as the Avro record name."""
AvroNamespace = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
]


class WorkflowInfo(BaseModel):
    """The workflow's name (part of every topic name) and the topology's version."""

    model_config = _FROZEN

    name: LowerName
    version: int = Field(ge=1)
    description: str = ""


class Backoff(BaseModel):
    """Exponential backoff between attempts: ``initial * multiplier**(n-1)``, capped at ``max``."""

    model_config = _FROZEN

    initial: Duration = timedelta(seconds=1)
    multiplier: float = Field(default=2.0, ge=1.0, le=100.0)
    max: Duration = timedelta(seconds=60)

    def delay(self, retry: int) -> timedelta:
        """Delay before the ``retry``-th retry (1 = the wait after the first failed attempt)."""
        seconds = self.initial.total_seconds() * self.multiplier ** max(retry - 1, 0)
        return min(timedelta(seconds=seconds), self.max)


class RetryPolicy(BaseModel):
    """How often the runtime tries a step before it reports StepFailed."""

    model_config = _FROZEN

    max_attempts: int = Field(default=3, ge=1, le=100)
    backoff: Backoff = Backoff()

    def budget(self, timeout: timedelta) -> timedelta:
        """Longest time all attempts can take: every attempt's timeout plus the waits between them."""
        waits = sum((self.backoff.delay(n) for n in range(1, self.max_attempts)), timedelta())
        return timeout * self.max_attempts + waits


class Compensation(BaseModel):
    """How a completed step is undone: the event its compensation handler emits.

    In YAML either the event name alone (``compensation: RefundReversed``) or a mapping with ``event``
    and optional ``timeout`` / ``max_attempts`` (defaults come from ``defaults``).
    """

    model_config = _FROZEN

    event: EventName
    timeout: Duration | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"event": data} if isinstance(data, str) else data


class Approval(BaseModel):
    """A human sign-off the step's output needs (enforced by the policy gate; see ``policies``)."""

    model_config = _FROZEN

    approvers: tuple[str, ...] = Field(min_length=1)
    quorum: int = Field(default=1, ge=1)
    timeout: Duration = timedelta(days=1)
    on_timeout: Literal["reject", "escalate"] = "reject"

    @model_validator(mode="after")
    def _quorum_reachable(self) -> Approval:
        if self.quorum > len(self.approvers):
            raise ValueError(f"quorum {self.quorum} exceeds the {len(self.approvers)} approvers named")
        return self


class Step(BaseModel):
    """One agent's reaction: on ``on`` it does its work and emits one of ``emits``.

    Exactly one of these says how the step is undone: ``compensation`` (an event), ``irreversible: true``
    (cannot be undone; reported, never compensated) or ``side_effects: false`` (nothing to undo).
    """

    model_config = _FROZEN

    agent: StepName
    on: EventName
    emits: tuple[EventName, ...] = Field(min_length=1)
    timeout: Duration | None = None
    retry: RetryPolicy | None = None
    compensation: Compensation | None = None
    irreversible: bool = False
    side_effects: bool = True
    approval: Approval | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_way_to_undo(self) -> Step:
        if self.irreversible and self.compensation is not None:
            raise ValueError("a step is either irreversible or has a compensation, not both")
        if not self.side_effects and (self.irreversible or self.compensation is not None):
            raise ValueError("side_effects: false means nothing to undo; drop compensation / irreversible")
        return self

    @property
    def compensable(self) -> bool:
        """True when the step changes the world and can be undone (so it needs a compensation)."""
        return self.side_effects and not self.irreversible


class Agent(BaseModel):
    """An agent taking part; ``reads`` pins the schema version it decodes an event with (reader)."""

    model_config = _FROZEN

    description: str = ""
    reads: dict[EventName, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)


class EventType(BaseModel):
    """An event type: its Avro record (fullname + version in ``schemas/``) and its topics' settings."""

    model_config = _FROZEN

    schema_name: str | None = Field(default=None, alias="schema")
    version: int = Field(default=1, ge=1)
    subject: str | None = None
    retention: Retention | None = None
    partitions: int | None = Field(default=None, ge=1)
    description: str = ""


class TopicOverride(BaseModel):
    """Retention and extra configuration for one of the orchestrator's own topics."""

    model_config = _FROZEN

    retention: Retention | None = None
    config: dict[str, str] = Field(default_factory=dict)


class Topics(BaseModel):
    """Settings shared by every topic of the topology (one partition count: co-partitioning)."""

    model_config = _FROZEN

    partitions: int = Field(ge=1, le=10_000)
    replication: int = Field(default=1, ge=1, le=32)
    retention: Retention = timedelta(days=7)
    proposed_retention: Retention | None = None
    config: dict[str, str] = Field(default_factory=dict)
    lifecycle: TopicOverride = TopicOverride()
    decisions: TopicOverride = TopicOverride(retention=FOREVER_SPAN)


class Defaults(BaseModel):
    """Values a step or compensation uses when it does not set its own."""

    model_config = _FROZEN

    timeout: Duration = timedelta(seconds=30)
    retry: RetryPolicy = RetryPolicy()
    compensation_timeout: Duration = timedelta(seconds=30)
    compensation_attempts: int = Field(default=3, ge=1, le=100)
    compensation_backoff: Backoff = Backoff()


class Topology(BaseModel):
    """A whole topology file."""

    model_config = _FROZEN

    workflow: WorkflowInfo
    namespace: AvroNamespace
    topics: Topics
    defaults: Defaults = Defaults()
    agents: dict[StepName, Agent] = Field(min_length=1)
    events: dict[EventName, EventType] = Field(min_length=1)
    start: tuple[EventName, ...] = Field(min_length=1)
    complete: tuple[EventName, ...] = Field(min_length=1)
    steps: dict[StepName, Step] = Field(min_length=1)
    policies: tuple[str, ...] = ()

    def schema_fullname(self, event: str) -> str:
        """The Avro fullname of an event type (``namespace.Name`` unless the event names its own)."""
        declared = self.events[event].schema_name
        return declared if declared else f"{self.namespace}.{event}"

    def step_timeout(self, step: str) -> timedelta:
        """One attempt's timeout for ``step``."""
        return self.steps[step].timeout or self.defaults.timeout

    def step_retry(self, step: str) -> RetryPolicy:
        """The retry policy for ``step``."""
        return self.steps[step].retry or self.defaults.retry

    def step_deadline(self, step: str) -> timedelta:
        """How long after its trigger the step's output may arrive before the orchestrator gives up.

        All attempts with their backoff waits, plus the approval timeout for a human-approval step.
        """
        budget = self.step_retry(step).budget(self.step_timeout(step))
        approval = self.steps[step].approval
        return budget + approval.timeout if approval else budget

    def compensation_timeout(self, step: str) -> timedelta:
        """How long one compensation attempt of ``step`` may take."""
        comp = self.steps[step].compensation
        return (comp.timeout if comp else None) or self.defaults.compensation_timeout

    def compensation_attempts(self, step: str) -> int:
        """How many compensation attempts before the workflow fails for a human."""
        comp = self.steps[step].compensation
        return (comp.max_attempts if comp else None) or self.defaults.compensation_attempts
