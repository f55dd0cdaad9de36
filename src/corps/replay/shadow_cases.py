"""What a shadow run found: each input's outputs now and then, their differences, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corps.replay.recording import CallUse
from corps.replay.records import LogRecord

__all__ = ["Output", "ShadowCase", "ShadowReport", "compare"]


@dataclass(frozen=True)
class Output:
    """One event, as compared: its type and payload (JSON values)."""

    event_type: str
    data: dict[str, Any]


@dataclass
class ShadowCase:
    """One input event run through the agent.

    Attributes:
        input: The admitted event.
        would_emit: What the agent now returns for it.
        emitted: What it emitted then (in the order of its outputs).
        recorded_failure: ``code: message`` of the StepFailed / CompensationFailed it reported then, if any.
        error: The exception the handler raises now, if any.
        calls: What each tool / LLM call did (substituted or live).
        differences: Every difference, in words (empty: the same).
    """

    input: LogRecord
    would_emit: list[Output] = field(default_factory=list)
    emitted: list[Output] = field(default_factory=list)
    recorded_failure: str | None = None
    error: str | None = None
    calls: list[CallUse] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """True when the agent would do now exactly what it did then."""
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        """The ``shadow`` line of this case."""
        return {
            "record": "shadow",
            "workflow_id": self.input.workflow,
            "event_id": self.input.event_id,
            "type": self.input.event_type,
            "same": self.same,
            "would_emit": [{"type": o.event_type, "data": o.data} for o in self.would_emit],
            "emitted": [{"type": o.event_type, "data": o.data} for o in self.emitted],
            "recorded_failure": self.recorded_failure,
            "error": self.error,
            "calls": [
                {"seq": c.seq, "name": c.name, "how": c.how, "args_match": c.args_match} for c in self.calls
            ],
            "differences": list(self.differences),
        }


@dataclass
class ShadowReport:
    """A shadow run's cases and totals."""

    agent: str
    version: str
    cases: list[ShadowCase] = field(default_factory=list)

    @property
    def different(self) -> list[ShadowCase]:
        """The cases with a difference."""
        return [c for c in self.cases if not c.same]

    def totals(self) -> dict[str, int]:
        """Cases run, the same, different, raising, and calls substituted / run live."""
        calls = [u for c in self.cases for u in c.calls]
        return {
            "cases": len(self.cases),
            "same": sum(c.same for c in self.cases),
            "different": len(self.different),
            "errors": sum(c.error is not None for c in self.cases),
            "calls_recorded": sum(u.how == "recorded" for u in calls),
            "calls_live": sum(u.how == "live" for u in calls),
        }

    def lines(self) -> list[dict[str, Any]]:
        """The JSONL lines: one per case, then a ``shadow-summary`` line."""
        summary = {"record": "shadow-summary", "agent": self.agent, "version": self.version, **self.totals()}
        return [*(c.to_json() for c in self.cases), summary]


def _diff(index: int, now: Output, then: Output) -> list[str]:
    if now.event_type != then.event_type:
        return [f"output {index}: would emit {now.event_type}, emitted {then.event_type}"]
    found = []
    short = now.event_type.rpartition(".")[2]
    for name in sorted(set(now.data) | set(then.data)):
        if name not in then.data:
            found.append(f"output {index} ({short}): field {name} is new ({now.data[name]!r})")
        elif name not in now.data:
            found.append(f"output {index} ({short}): field {name} is gone (was {then.data[name]!r})")
        elif now.data[name] != then.data[name]:
            found.append(
                f"output {index} ({short}): {name} would be {now.data[name]!r}, was {then.data[name]!r}"
            )
    return found


def compare(case: ShadowCase) -> None:
    """Fill ``case.differences``: what the agent would do now against what it did then."""
    if case.error is not None:
        then = case.recorded_failure or f"emitted {len(case.emitted)} event(s)"
        case.differences.append(f"would fail ({case.error}); then: {then}")
        return
    if case.recorded_failure is not None:
        case.differences.append(
            f"would emit {len(case.would_emit)} event(s); then it failed ({case.recorded_failure})"
        )
    for index in range(max(len(case.would_emit), len(case.emitted))):
        if index >= len(case.emitted):
            case.differences.append(
                f"output {index}: would emit {case.would_emit[index].event_type}, emitted nothing"
            )
        elif index >= len(case.would_emit):
            case.differences.append(
                f"output {index}: emitted {case.emitted[index].event_type}, would emit nothing"
            )
        else:
            case.differences.extend(_diff(index, case.would_emit[index], case.emitted[index]))
