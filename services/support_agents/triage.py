"""The triage agent: classifies a ticket and decides whether a refund is due."""

from __future__ import annotations

import logging

from services.support_agents.helpdesk import TicketFacts, helpdesk

from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime import Agent, handler

_log = logging.getLogger(__name__)
_ACCOUNT_WORDS = ("password", "login", "account", "sign in")
_TECH_WORDS = ("error", "crash", "bug", "broken app")


@handler
async def triage(ticket: TicketOpened) -> TicketTriaged:
    """File the ticket with the helpdesk and classify it (keyword rules standing in for a model)."""
    helpdesk().file_ticket(
        TicketFacts(ticket.ticket_id, ticket.customer.email, ticket.refund_amount_cents, ticket.subject)
    )
    text = f"{ticket.subject} {ticket.body}".lower()
    needs_refund = bool(ticket.refund_amount_cents)
    if needs_refund:
        category = "BILLING"
    elif any(w in text for w in _ACCOUNT_WORDS):
        category = "ACCOUNT"
    elif any(w in text for w in _TECH_WORDS):
        category = "TECHNICAL"
    else:
        category = "OTHER"
    priority = "HIGH" if (ticket.refund_amount_cents or 0) > 10_000 else "NORMAL"
    _log.info("triaged", extra={"ticket_id": ticket.ticket_id, "category": category})
    return TicketTriaged(
        ticket_id=ticket.ticket_id,
        category=category,
        priority=priority,
        needs_refund=needs_refund,
        confidence=0.9,
        summary=ticket.subject[:120],
    )


agent = Agent(
    name="triage",
    version="1.0.0",
    handlers=[triage],
    capabilities=["classify-ticket"],
    description="Classifies a ticket and decides whether a refund is due.",
)
