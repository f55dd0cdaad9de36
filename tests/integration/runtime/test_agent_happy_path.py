"""An agent consumes its input topic and writes one typed output per input, in order per workflow."""

from __future__ import annotations

import pytest
from tests.integration.runtime.agents_for_tests import TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running

from corps.events.demo import TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_every_input_gets_one_output_with_a_causal_envelope(bed: Bed) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    routing = bed.routing(
        {TicketOpened: source}, {TicketTriaged: sink}, steps={TicketOpened.event_type: "triage-step"}
    )
    settings = bed.settings(routing)
    sent = {}
    for n in range(60):
        env = bed.publish(source, ticket(n, amount=None if n % 3 == 0 else 500), workflow_id=f"wf-{n % 7}")
        sent[env.id] = (env, n)
    bed.flush()
    async with running(TRIAGE, settings):
        out = await bed.aread(sink, 60, settle_s=1.0)
    assert len(out) == 60
    seen_causes = set()
    per_workflow: dict[str, list[int]] = {}
    for raw in sorted(out, key=lambda r: (r.partition, r.offset)):
        env, payload = bed.decode(raw, TicketTriaged)
        cause, n = sent[env.causation_id]
        seen_causes.add(env.causation_id)
        assert raw.key == cause.workflow_id.encode()
        assert (env.workflow_id, env.tenant, env.source, env.step) == (
            cause.workflow_id,
            "acme",
            "triage",
            "triage-step",
        )
        assert payload.ticket_id == f"t-{n}"
        assert payload.needs_refund is (n % 3 != 0)
        assert payload.summary == f"{cause.workflow_id}:1"  # the handler saw its context
        per_workflow.setdefault(env.workflow_id, []).append(n)
    assert seen_causes == set(sent)
    for numbers in per_workflow.values():
        assert numbers == sorted(numbers)  # one workflow's outputs keep the input order
