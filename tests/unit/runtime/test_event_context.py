"""Per-event context lives in a contextvar: bound per call, isolated between concurrent tasks."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from corps.runtime import EventContext, bind_context, current_context
from corps.runtime.context import NoEventContextError

CTX = EventContext(
    agent="triage",
    event_id="e1",
    event_type="test.Opened",
    workflow_id="wf-1",
    tenant="acme",
    source="client",
    causation_id=None,
    step=None,
    attempt=1,
    time=datetime(2025, 1, 1, tzinfo=UTC),
    topic="in",
    partition=0,
    offset=0,
)


def test_outside_a_handler_is_an_error() -> None:
    with pytest.raises(NoEventContextError):
        current_context()


def test_bind_and_reset() -> None:
    with bind_context(CTX):
        assert current_context() is CTX
    with pytest.raises(NoEventContextError):
        current_context()


def test_concurrent_tasks_see_their_own_context() -> None:
    async def handle(ctx: EventContext) -> str:
        with bind_context(ctx):
            await asyncio.sleep(0.01)
            inner = await asyncio.create_task(_read_later())  # a child task inherits the context
            return f"{current_context().workflow_id}/{inner}"

    async def _read_later() -> str:
        await asyncio.sleep(0)
        return current_context().workflow_id

    async def main() -> list[str]:
        ctxs = [replace(CTX, workflow_id=f"wf-{i}") for i in range(20)]
        return await asyncio.gather(*(handle(c) for c in ctxs))

    assert asyncio.run(main()) == [f"wf-{i}/wf-{i}" for i in range(20)]
