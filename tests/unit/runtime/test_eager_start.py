"""Eager coroutine start: no task for handlers that never wait; the rest resumes correctly when they do."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from corps.runtime.eager import Rest, start, uuid5


def test_a_coroutine_that_never_waits_finishes_at_once() -> None:
    async def quick() -> int:
        return 42

    assert start(quick()) == (True, 42)


def test_exceptions_before_the_first_wait_propagate() -> None:
    async def broken() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        start(broken())


def test_the_rest_of_a_waiting_coroutine_resumes_in_a_task() -> None:
    steps: list[str] = []

    async def slow() -> str:
        steps.append("before")
        await asyncio.sleep(0.01)
        steps.append("after")
        return "done"

    async def main() -> str:
        finished, rest = start(slow())
        assert not finished
        assert steps == ["before"]
        assert isinstance(rest, Rest)
        return await asyncio.wait_for(rest, 1.0)

    assert asyncio.run(main()) == "done"
    assert steps == ["before", "after"]


def test_a_timeout_cancels_the_rest() -> None:
    cancelled: list[bool] = []

    async def hang() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        finished, rest = start(hang())
        assert not finished
        await asyncio.wait_for(rest, 0.01)  # type: ignore[arg-type]

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert cancelled == [True]


def test_exceptions_after_a_wait_reach_the_awaiter() -> None:
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("late")

    async def main() -> None:
        _, rest = start(fails_later())
        await rest  # type: ignore[misc]

    with pytest.raises(KeyError, match="late"):
        asyncio.run(main())


@pytest.mark.parametrize("name", ["", "abc/def/0", "é/ü/∞", "x" * 500])
def test_uuid5_matches_the_standard_library(name: str) -> None:
    namespace = uuid.UUID("6f0c6d2e-5b1e-4c61-9a57-2f6c0c6b7a11")
    assert uuid5(namespace.bytes, name) == str(uuid.uuid5(namespace, name))
