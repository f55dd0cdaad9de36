"""The example support agents chained topic to topic: replies sent, a bounce fails, a refund reversed.

The refunds agent reads the TicketTriaged v2 events the triage agent writes through its v1 model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from services.support_agents import refunds, sender, triage, writer
from services.support_agents.helpdesk import helpdesk
from tests.integration.runtime.harness import Bed, running

from corps.events import EventModel
from corps.events.demo import (
    Customer,
    RefundIssued,
    RefundReversed,
    ReplyDrafted,
    ReplySent,
    TicketOpened,
    TicketTriaged,
)
from corps.events.lifecycle import CompensationCompleted, CompensationRequested, StepFailed
from corps.runtime.settings import AgentSettings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _ticket(n: int, email: str, amount: int | None, subject: str = "Order arrived damaged") -> TicketOpened:
    customer = Customer(customer_id=f"C-{n}", name=f"Customer {n}", email=email)
    return TicketOpened(
        ticket_id=f"T-{n}",
        customer=customer,
        subject=subject,
        body="Please help.",
        refund_amount_cents=amount,
    )


async def test_the_support_chain_and_its_compensation(
    bed: Bed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORPS_HELPDESK_DB", str(tmp_path / "helpdesk.sqlite3"))
    models = (TicketOpened, TicketTriaged, RefundIssued, RefundReversed, ReplyDrafted, ReplySent)
    t: dict[type[EventModel], str] = {m: bed.topic(m.__name__) for m in models}
    steps = {
        TicketOpened.event_type: "triage",
        TicketTriaged.event_type: "refund",
        RefundIssued.event_type: "draft",
        ReplyDrafted.event_type: "send",
    }

    def settings(inputs: dict[type[EventModel], str], outputs: dict[type[EventModel], str]) -> AgentSettings:
        return bed.settings(bed.routing(inputs, outputs, steps=steps))

    s = {
        "triage": settings({TicketOpened: t[TicketOpened]}, {TicketTriaged: t[TicketTriaged]}),
        "refunds": settings(
            {refunds.TicketTriagedV1: t[TicketTriaged], CompensationRequested: bed.lifecycle},
            {RefundIssued: t[RefundIssued], RefundReversed: t[RefundReversed]},
        ),
        "writer": settings({RefundIssued: t[RefundIssued]}, {ReplyDrafted: t[ReplyDrafted]}),
        "sender": settings({ReplyDrafted: t[ReplyDrafted]}, {ReplySent: t[ReplySent]}),
    }
    refunded = bed.publish(t[TicketOpened], _ticket(1, "ann@example.com", 2500), workflow_id="wf-refund")
    password = _ticket(2, "bob@example.com", None, "How do I reset my password?")
    question = bed.publish(t[TicketOpened], password, workflow_id="wf-question")
    bounce = bed.publish(t[TicketOpened], _ticket(3, "nobody@bounce.invalid", 3000), workflow_id="wf-bounce")
    bed.flush()
    async with (
        running(triage.agent, s["triage"]),
        running(refunds.agent, s["refunds"]),
        running(writer.agent, s["writer"]),
        running(sender.agent, s["sender"]),
    ):
        sent = await bed.aread(t[ReplySent], 2)
        failed = await bed.aread(bed.lifecycle, 1)
        issued = {bed.decode(r, RefundIssued)[0].workflow_id: r for r in await bed.aread(t[RefundIssued], 3)}
        _, bounce_refund = bed.decode(issued["wf-bounce"], RefundIssued)
        # the orchestrator would now ask refunds to undo its step; one request for another agent is ignored
        for agent_name in ("someone-else", "refunds"):
            request = CompensationRequested(
                step="refund",
                agent=agent_name,
                failed_step="send",
                reason="send failed",
                original_event_id=bed.decode(issued["wf-bounce"], RefundIssued)[0].id,
                original_event_type=RefundIssued.event_type,
                original_payload_json=json.dumps(bounce_refund.model_dump()),
            )
            bed.publish(bed.lifecycle, request, workflow_id="wf-bounce")
        bed.flush()
        reversed_ = await bed.aread(t[RefundReversed], 1, settle_s=1.0)
        done = await bed.aread(bed.lifecycle, 4, settle_s=1.0)

    assert {bed.decode(r, ReplySent)[0].workflow_id for r in sent} == {
        refunded.workflow_id,
        question.workflow_id,
    }
    step_failed = [r for r in failed if r.header("ce_type") == StepFailed.event_type.encode()]
    env, report = bed.decode(step_failed[0], StepFailed)
    observed = (env.workflow_id, report.step, report.agent, report.code, report.attempts)
    assert observed == (bounce.workflow_id, "send", "sender", "INVALID_INPUT", 1)
    amounts = {wf: bed.decode(r, RefundIssued)[1].amount_cents for wf, r in issued.items()}
    assert amounts == {"wf-refund": 2500, "wf-question": 0, "wf-bounce": 3000}
    assert [bed.decode(r, RefundReversed)[1].amount_cents for r in reversed_] == [3000]
    assert helpdesk().refund_state(bounce_refund.refund_id) == "reversed"
    assert helpdesk().refund_state("rf-wf-refund") == "paid"
    kind = CompensationCompleted.event_type.encode()
    completed = [bed.decode(r, CompensationCompleted) for r in done if r.header("ce_type") == kind]
    assert len(completed) == 1
    env, report = completed[0]
    assert (report.step, report.agent, env.step, env.source) == ("refund", "refunds", "refund", "refunds")
    assert report.compensation_event_id == bed.decode(reversed_[0], RefundReversed)[0].id
