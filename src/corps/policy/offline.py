"""Offline policy tests (``corps policy test``): events from JSON Lines, decided in order, no broker.

Each non-blank line is a CloudEvents JSON event (the form ``corps publish`` reads)::

    {"type": "demo.support.TicketOpened", "tenant": "acme", "time": "2024-05-01T09:00:00Z",
     "source": "helpdesk", "workflowid": "wf-1", "data": {...},
     "evaluated_at": "2024-05-01T09:00:02Z", "expect": "deny"}

``type``, ``tenant`` and ``data`` are required; ``id`` (default ``line-<n>``), ``source`` (default
``corps-policy-test``), ``time`` (default 2000-01-01T00:00:00Z), ``workflowid`` (default ``wf-<n>``) and
``step`` are optional. ``evaluated_at`` is the evaluation time (default: the event's ``time``);
``expect`` an effect the decision must have, so a team's CI can pin its policies' behaviour. Counters
carry over from line to line, so throttles and budgets can be tested too.

Counters are kept per partition, as in the gate, for the partition count P the set was compiled for
(``corps policy test --partitions``; default 1). An event's partition is its line's ``partition``, else
the one librdkafka's default partitioner gives its workflow id (CRC-32 of the key modulo P).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from corps.errors import ConfigurationError
from corps.events import Envelope
from corps.policy.compiled import CompiledPolicySet
from corps.policy.decision import Decision, Effect
from corps.policy.evaluate import evaluate
from corps.policy.inputs import ProposedEvent
from corps.policy.state import PolicyState

__all__ = ["CaseInputError", "CaseResult", "PolicyCase", "parse_cases", "partition_of", "run_cases"]

DEFAULT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_KNOWN = {"specversion", "type", "tenant", "data", "id", "source", "time", "workflowid", "workflow_id",
          "step", "causationid", "evaluated_at", "expect", "datacontenttype", "partition"}  # fmt: skip


class CaseInputError(ConfigurationError):
    """A line of the events file is not a usable event; ``line`` says which."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One event to decide about.

    Attributes:
        line: 1-based line number in the events file.
        event: The event.
        evaluated_at: The evaluation time.
        expect: The effect the decision must have, if given.
        partition: The partition the line names, if any (else the workflow id's).
    """

    line: int
    event: ProposedEvent
    evaluated_at: datetime
    expect: Effect | None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case and its decision.

    Attributes:
        case: The case.
        decision: What the policies decided.
    """

    case: PolicyCase
    decision: Decision

    @property
    def failed(self) -> bool:
        """True when an expected effect was given and the decision differs."""
        return self.case.expect is not None and self.case.expect is not self.decision.effect


def _time(value: Any, line: int, key: str) -> datetime:
    if not isinstance(value, str):
        raise CaseInputError(line, f"{key} must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CaseInputError(line, f"{key} {value!r} is not an RFC 3339 time") from exc
    if moment.tzinfo is None:
        raise CaseInputError(line, f"{key} {value!r} needs a time zone (e.g. Z)")
    return moment


def _case(body: Any, line: int) -> PolicyCase:
    if not isinstance(body, dict):
        raise CaseInputError(line, "each line is a JSON object")
    missing = [k for k in ("type", "tenant", "data") if k not in body]
    if missing:
        raise CaseInputError(line, f"missing {', '.join(missing)}")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise CaseInputError(line, f"unknown key(s) {', '.join(unknown)}")
    if not isinstance(body["data"], dict):
        raise CaseInputError(line, "data must be a JSON object")
    time = _time(body["time"], line, "time") if "time" in body else DEFAULT_TIME
    try:
        envelope = Envelope(
            id=str(body.get("id", f"line-{line}")),
            source=str(body.get("source", "corps-policy-test")),
            type=body["type"],
            time=time,
            tenant=body["tenant"],
            workflow_id=str(body.get("workflowid", body.get("workflow_id", f"wf-{line}"))),
            causation_id=body.get("causationid"),
            step=body.get("step"),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CaseInputError(line, f"invalid event: {problems}") from exc
    evaluated_at = _time(body["evaluated_at"], line, "evaluated_at") if "evaluated_at" in body else time
    expect = body.get("expect")
    if expect is not None and expect not in {e.value for e in Effect}:
        raise CaseInputError(line, f"expect must be one of {', '.join(e.value for e in Effect)}")
    partition = body.get("partition")
    if partition is not None and (
        isinstance(partition, bool) or not isinstance(partition, int) or partition < 0
    ):
        raise CaseInputError(line, f"partition must be a non-negative integer, not {partition!r}")
    return PolicyCase(
        line,
        ProposedEvent(envelope, body["data"]),
        evaluated_at,
        Effect(expect) if expect else None,
        partition,
    )


def partition_of(case: PolicyCase, partitions: int) -> int:
    """The partition ``case`` is decided on: its own, else librdkafka's for its workflow id as key.

    Raises:
        CaseInputError: The line names a partition that is not below ``partitions``.
    """
    if case.partition is not None:
        if case.partition >= partitions:
            raise CaseInputError(
                case.line, f"partition {case.partition} is not below the {partitions} partitions"
            )
        return case.partition
    return zlib.crc32(case.event.envelope.workflow_id.encode()) % partitions


def parse_cases(lines: Iterable[str]) -> list[PolicyCase]:
    """Parse every non-blank line.

    Raises:
        CaseInputError: A line is not JSON or not a usable event (the first such line).
    """
    cases = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise CaseInputError(number, f"not JSON: {exc}") from exc
        cases.append(_case(body, number))
    return cases


def run_cases(
    policy_set: CompiledPolicySet,
    cases: Iterable[PolicyCase],
    state: PolicyState | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Decide about each case in order, carrying each partition's counters from one case to the next.

    ``state`` seeds every partition. ``on_result`` is called after each case (e.g. to advance a
    progress bar).

    Raises:
        CaseInputError: A case names a partition not below ``policy_set.partitions``.
    """
    seed = state or PolicyState()
    states: dict[int, PolicyState] = {}
    results = []
    for case in cases:
        partition = partition_of(case, policy_set.partitions)
        decision, states[partition] = evaluate(
            policy_set, case.event, states.get(partition, seed), case.evaluated_at
        )
        results.append(CaseResult(case, decision))
        if on_result is not None:
            on_result(results[-1])
    return results
