"""The three agents of the G3/G5 choreography: minimal handlers on the demo support events.

Each does the least work an agent can (build its output from its input), so the figures show what
the runtime, the gate and the orchestrator cost, not what a model call costs. Run as
``corps agent run bench.g3_agents:TRIAGE --topology FILE``.
"""

from __future__ import annotations

from corps.events.demo import RefundIssued, ReplyDrafted, TicketOpened, TicketTriaged
from corps.runtime import Agent, handler


@handler
async def triage(event: TicketOpened) -> TicketTriaged:
    return TicketTriaged(ticket_id=event.ticket_id, category="BILLING", priority="NORMAL", needs_refund=True)


@handler
async def refund(event: TicketTriaged) -> RefundIssued:
    return RefundIssued(ticket_id=event.ticket_id, refund_id=f"r-{event.ticket_id}", amount_cents=1250)


@handler
async def draft(event: RefundIssued) -> ReplyDrafted:
    return ReplyDrafted(ticket_id=event.ticket_id, body=f"refund {event.refund_id} issued")


TRIAGE = Agent(name="triage", version="1", handlers=[triage])
REFUNDS = Agent(name="refunds", version="1", handlers=[refund])
WRITER = Agent(name="writer", version="1", handlers=[draft])
