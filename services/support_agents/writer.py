"""The writer agent: drafts the reply to the customer (a template standing in for a language model)."""

from __future__ import annotations

from corps.events.demo import RefundIssued, ReplyDrafted
from corps.runtime import Agent, handler


@handler
async def draft(refund: RefundIssued) -> ReplyDrafted:
    """Draft the reply: it mentions the refund when there is one."""
    if refund.amount_cents:
        money = f"{refund.amount_cents / 100:.2f} {refund.currency}"
        body = f"We are sorry. We refunded {money} (reference {refund.refund_id}); it arrives in 3-5 days."
    else:
        body = "Thank you for reaching out. Here is how to solve this: see our help centre article."
    return ReplyDrafted(ticket_id=refund.ticket_id, body=body, model="template-v1")


agent = Agent(
    name="writer",
    version="1.0.0",
    handlers=[draft],
    capabilities=["draft-reply"],
    description="Drafts the reply to the customer.",
)
