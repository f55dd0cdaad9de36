"""Batch dispatch: one workflow's records in order, workflows concurrently, bounded, failures abort."""

from __future__ import annotations

import asyncio
import random

import pytest

from corps.events import RawRecord
from corps.runtime.engine.dispatch import process_in_order
from corps.runtime.processor import Outcome, Status


def _records(n: int, keys: int) -> list[RawRecord]:
    return [RawRecord("t", 0, i, f"wf-{i % keys}".encode(), b"", ()) for i in range(n)]


def test_order_per_key_concurrency_across_keys_and_the_bound() -> None:
    rng = random.Random(3)
    finished: list[RawRecord] = []
    in_flight = peak = 0

    async def process(record: RawRecord) -> Outcome:
        nonlocal in_flight, peak
        if record.offset % 3:  # some handlers never wait (the eager path), others do
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(rng.random() / 500)
            in_flight -= 1
        finished.append(record)
        return Outcome(Status.HANDLED, detail=str(record.offset))

    records = _records(300, keys=17)
    outcomes = asyncio.run(process_in_order(process, records, limit=8))
    assert [o.detail for o in outcomes] == [str(r.offset) for r in records]  # results in input order
    for key in {r.key for r in records}:
        mine = [r.offset for r in finished if r.key == key]
        assert mine == sorted(mine)  # one workflow's records one after the other
    assert 1 < peak <= 8


def test_limit_one_is_strictly_sequential() -> None:
    seen: list[int] = []

    async def process(record: RawRecord) -> Outcome:
        await asyncio.sleep(0)
        seen.append(record.offset)
        return Outcome(Status.HANDLED)

    asyncio.run(process_in_order(process, _records(20, keys=5), limit=1))
    assert seen == list(range(20))


def test_a_failure_cancels_the_rest_and_propagates() -> None:
    cancelled: list[int] = []

    async def process(record: RawRecord) -> Outcome:
        try:
            await asyncio.sleep(0.05 if record.offset else 0)
        except asyncio.CancelledError:
            cancelled.append(record.offset)
            raise
        if record.offset == 0:
            raise RuntimeError("registry down")
        return Outcome(Status.HANDLED)

    with pytest.raises(RuntimeError, match="registry down"):
        asyncio.run(process_in_order(process, _records(10, keys=10), limit=100))
    assert cancelled
