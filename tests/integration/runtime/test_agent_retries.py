"""Retries go through delayed retry topics (the partition keeps flowing); exhaustion gives StepFailed."""

from __future__ import annotations

import pytest
from tests.integration.runtime.agents_for_tests import FLAKY, ticket
from tests.integration.runtime.harness import Bed, running

from corps.events.demo import TicketOpened, TicketTriaged
from corps.events.lifecycle import StepFailed
from corps.runtime import RetryPolicy

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_delayed_retry_succeeds_without_blocking_the_partition(bed: Bed) -> None:
    source, sink = bed.topic("opened", partitions=1), bed.topic("triaged", partitions=1)
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}),
        retry=RetryPolicy(max_attempts=3, initial_delay=2.0, jitter=0),
    )
    flaky = bed.publish(source, ticket(0, subject="flaky"), workflow_id="wf-flaky")
    others = [bed.publish(source, ticket(n), workflow_id=f"wf-{n}").id for n in range(1, 21)]
    bed.flush()
    async with running(FLAKY, settings) as worker:
        out = await bed.aread(sink, 21)
    decoded = [bed.decode(r, TicketTriaged) for r in sorted(out, key=lambda r: r.offset)]
    assert [env.causation_id for env, _ in decoded[:20]] == others  # the others went first, in order
    last_env, last = decoded[20]
    assert last_env.causation_id == flaky.id
    assert last.summary == "wf-flaky:2"  # handled on attempt 2, from the retry topic
    assert len(out) == 21
    assert (
        worker.metrics.registry.get_sample_value(
            "corps_retries_total",
            {"agent": "flaky-triage", "event_type": TicketOpened.event_type, "code": "RETRYABLE"},
        )
        == 1
    )


async def test_exhausted_retries_and_non_retryable_errors_emit_step_failed(bed: Bed) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}, steps={TicketOpened.event_type: "triage"}),
        retry=RetryPolicy(max_attempts=3, initial_delay=0.2, max_delay=1.0),
    )
    down = bed.publish(source, ticket(1, subject="down"), workflow_id="wf-down")
    invalid = bed.publish(source, ticket(2, subject="invalid"), workflow_id="wf-invalid")
    fine = bed.publish(source, ticket(3), workflow_id="wf-fine")
    bed.flush()
    async with running(FLAKY, settings):
        failures = await bed.aread(bed.lifecycle, 2, settle_s=1.5)
        out = await bed.aread(sink, 1, settle_s=0.5)
    assert [bed.decode(r, TicketTriaged)[0].causation_id for r in out] == [fine.id]
    reports = {}
    for raw in failures:
        env, failed = bed.decode(raw, StepFailed)
        assert raw.key == env.workflow_id.encode()
        reports[env.causation_id] = (env, failed)
    assert set(reports) == {down.id, invalid.id}
    env, failed = reports[down.id]
    assert (failed.step, failed.agent, failed.code, failed.attempts, failed.retryable) == (
        "triage",
        "flaky-triage",
        "DEPENDENCY_UNAVAILABLE",
        3,
        True,
    )
    assert "the model API is down" in failed.last_error
    assert (env.workflow_id, env.source, env.step) == ("wf-down", "flaky-triage", "triage")
    _, failed = reports[invalid.id]
    assert (failed.code, failed.attempts, failed.retryable) == ("INVALID_INPUT", 1, False)
