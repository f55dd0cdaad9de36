"""Replicas of one agent share its partitions; a replica joining mid-stream loses and duplicates nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from tests.integration.runtime.agents_for_tests import TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running, wait_for

from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime.engine import KafkaEngine
from corps.runtime.worker import AgentWorker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _owned(worker: AgentWorker) -> frozenset[int]:
    """Partitions of the input topic the replica owns (it also owns retry-topic partitions)."""
    engine = worker.engine
    assert isinstance(engine, KafkaEngine)
    return frozenset(p for t, p in engine.assignment if t == worker.processor.input_topics[0])


async def test_two_replicas_split_partitions_and_a_third_rebalances_without_loss(bed: Bed) -> None:
    source, sink = bed.topic("opened", partitions=6), bed.topic("triaged", partitions=6)
    settings = bed.settings(bed.routing({TicketOpened: source}, {TicketTriaged: sink}))
    sent: list[str] = []

    async def publish(start: int, count: int) -> None:
        for n in range(start, start + count):
            sent.append(bed.publish(source, ticket(n), workflow_id=f"wf-{n % 50}").id)
            if n % 50 == 0:
                await asyncio.sleep(0.01)
        bed.flush()

    async with running(TRIAGE, settings) as a, running(TRIAGE, settings) as b:
        await wait_for(lambda: len(_owned(a)) + len(_owned(b)) == 6 and bool(_owned(a)) and bool(_owned(b)))
        assert not _owned(a) & _owned(b)
        await publish(0, 1500)
        async with running(TRIAGE, settings) as c:
            await publish(1500, 1500)
            await wait_for(lambda: bool(_owned(c)) and len(_owned(a) | _owned(b) | _owned(c)) == 6)
            await publish(3000, 1500)
            out = await bed.aread(sink, len(sent), settle_s=2.0)
    causes = Counter(bed.decode(r, TicketTriaged)[0].causation_id for r in out)
    assert set(causes) == set(sent)  # nothing lost
    assert max(causes.values()) == 1  # nothing duplicated for a read_committed reader
