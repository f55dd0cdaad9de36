"""Processing one consumed batch: per-workflow order, concurrency across workflows, no task unless needed."""

from __future__ import annotations

import asyncio
import contextvars
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from corps.events import RawRecord
from corps.runtime.eager import Rest, start
from corps.runtime.outcome import Outcome

__all__ = ["process_in_order"]

Process = Callable[[RawRecord], Coroutine[Any, Any, Outcome]]


async def process_in_order(process: Process, records: list[RawRecord], limit: int) -> list[Outcome]:
    """Process ``records``; one key's (workflow's) records strictly in order, different keys concurrently.

    Each record runs in its own copy of the context (its event context and span stay its own). It
    starts eagerly: a handler that never waits finishes right there, without a task; one that waits
    becomes a task, and later records of the same key queue behind it. At most ``limit`` records wait
    at once. The outcomes come back in input order. The first failure cancels the rest and propagates.
    """
    if limit == 1:
        return [await process(r) for r in records]
    loop = asyncio.get_running_loop()
    outcomes: list[Outcome | None] = [None] * len(records)
    tail: dict[bytes | None, asyncio.Task[None]] = {}
    waiting: set[asyncio.Task[None]] = set()

    async def finish(index: int, rest: Rest[Outcome]) -> None:
        outcomes[index] = await rest

    async def after(index: int, previous: asyncio.Task[None]) -> None:
        await previous
        outcomes[index] = await process(records[index])

    try:
        for index, record in enumerate(records):
            previous = tail.get(record.key)
            context = contextvars.copy_context()
            if previous is not None and not previous.done():
                task = loop.create_task(after(index, previous), context=context)
            else:
                finished, value = context.run(start, process(record))
                if finished:
                    outcomes[index] = typing.cast(Outcome, value)
                    continue
                task = loop.create_task(finish(index, typing.cast(Rest[Outcome], value)), context=context)
            tail[record.key] = task
            waiting.add(task)
            if len(waiting) >= limit:
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # a failure aborts the batch now
        if waiting:
            await asyncio.gather(*waiting)
    except BaseException:
        for task in waiting:
            task.cancel()
        if waiting:  # let them unwind before the caller rewinds, so no handler runs on afterwards
            await asyncio.wait(waiting)
        raise
    return [o for o in outcomes if o is not None]
