"""Builders shared by the policy unit tests: sets from YAML text, events, fixed times."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from corps.events import Envelope
from corps.policy import (
    CompiledPolicySet,
    Decision,
    PolicySet,
    PolicyState,
    ProposedEvent,
    compile_policy_set,
    evaluate,
    load_policy_files,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


def policy_set(tmp_path: Path, body: str, name: str = "policies.yaml") -> PolicySet:
    """Load one policy file written from ``body`` (dedented)."""
    file = tmp_path / name
    file.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_policy_files([file]).policy_set


def compiled(tmp_path: Path, body: str) -> CompiledPolicySet:
    return compile_policy_set(policy_set(tmp_path, body))


def event(
    name: str = "TicketOpened",
    data: dict[str, Any] | None = None,
    *,
    tenant: str = "acme",
    source: str = "helpdesk",
    time: datetime = T0,
    step: str | None = None,
    event_id: str = "e-1",
    workflow_id: str = "wf-1",
) -> ProposedEvent:
    envelope = Envelope(
        id=event_id,
        source=source,
        type=f"demo.support.{name}",
        time=time,
        tenant=tenant,
        workflow_id=workflow_id,
        step=step,
    )
    return ProposedEvent(envelope, data if data is not None else {})


def decide(
    cset: CompiledPolicySet,
    ev: ProposedEvent,
    state: PolicyState | None = None,
    now: datetime | None = None,
) -> tuple[Decision, PolicyState]:
    return evaluate(cset, ev, state or PolicyState(), now or ev.envelope.time)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
