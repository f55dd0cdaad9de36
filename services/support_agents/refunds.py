"""The refunds agent: issues the refund a triaged ticket is due, and reverses it when compensating.

It is built against version 1 of TicketTriaged (the topology says ``reads: {TicketTriaged: 1}``), and
decodes the version 2 events the triage agent writes through Avro schema resolution.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from services.support_agents.helpdesk import helpdesk

from corps.events import EventModel, SchemaCatalog
from corps.events.demo import Priority, RefundIssued, RefundReversed, TicketCategory
from corps.events.lifecycle import CompensationRequested
from corps.runtime import Agent, InvalidInputError, compensation, current_context, handler

_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


class TicketTriagedV1(EventModel):
    """TicketTriaged as version 1 of its schema defines it (the reader this agent was built with)."""

    event_type: ClassVar[str] = "demo.support.TicketTriaged"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[dict[str, Any]] = dict(
        SchemaCatalog.load(_SCHEMAS)["demo.support.TicketTriaged"].version(1).schema
    )

    ticket_id: str
    category: TicketCategory
    priority: Priority
    needs_refund: bool


@handler
async def refund(triaged: TicketTriagedV1) -> RefundIssued:
    """Pay the refund due (zero when none is), idempotently: the refund id derives from the ticket."""
    facts = helpdesk().ticket(triaged.ticket_id)
    if facts is None:
        raise InvalidInputError(f"ticket {triaged.ticket_id} is unknown to the helpdesk")
    amount = (facts.refund_amount_cents or 0) if triaged.needs_refund else 0
    refund_id = f"rf-{current_context().workflow_id}"
    if amount:
        helpdesk().pay_refund(refund_id, triaged.ticket_id, amount)
    return RefundIssued(
        ticket_id=triaged.ticket_id,
        refund_id=refund_id,
        amount_cents=amount,
        reason=facts.subject if amount else "no refund due",
    )


@compensation
async def reverse(request: CompensationRequested) -> RefundReversed:
    """Take back the refund the step issued (the request carries the RefundIssued payload)."""
    issued = json.loads(request.original_payload_json or "{}")
    refund_id = str(issued.get("refund_id") or f"rf-{current_context().workflow_id}")
    helpdesk().reverse_refund(refund_id)
    return RefundReversed(
        ticket_id=str(issued.get("ticket_id", "")),
        refund_id=refund_id,
        amount_cents=int(issued.get("amount_cents", 0)),
        reason=f"compensating: {request.reason}"[:500],
    )


agent = Agent(
    name="refunds",
    version="1.0.0",
    handlers=[refund],
    compensations=[reverse],
    capabilities=["issue-refund", "reverse-refund"],
    description="Issues refunds and reverses them when asked to compensate.",
)
