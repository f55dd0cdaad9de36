"""Small agents of the demo domain used by the runtime integration tests."""

from __future__ import annotations

import asyncio

from corps.events.demo import Customer, RefundIssued, TicketOpened, TicketTriaged
from corps.runtime import (
    Agent,
    DependencyUnavailableError,
    InvalidInputError,
    RetryableError,
    current_context,
    handler,
)


def ticket(n: int, *, subject: str = "refund please", amount: int | None = 1000) -> TicketOpened:
    return TicketOpened(
        ticket_id=f"t-{n}",
        customer=Customer(customer_id=f"c-{n}", name="Ada", email="ada@example.com"),
        subject=subject,
        body="my order arrived broken",
        refund_amount_cents=amount,
    )


@handler
async def triage(event: TicketOpened) -> TicketTriaged:
    ctx = current_context()
    return TicketTriaged(
        ticket_id=event.ticket_id,
        category="BILLING" if event.refund_amount_cents else "OTHER",
        priority="NORMAL",
        needs_refund=bool(event.refund_amount_cents),
        summary=f"{ctx.workflow_id}:{ctx.attempt}",
    )


TRIAGE = Agent(name="triage", version="1.0.0", handlers=[triage], capabilities=["classify"])


@handler
async def flaky_triage(event: TicketOpened) -> TicketTriaged:
    """Fails its first attempt for tickets whose subject is 'flaky'; always fails for 'down' and 'invalid'."""
    ctx = current_context()
    if event.subject == "flaky" and ctx.attempt == 1:
        raise RetryableError("first attempt fails")
    if event.subject == "down":
        raise DependencyUnavailableError("the model API is down")
    if event.subject == "invalid":
        raise InvalidInputError("no ticket text")
    return TicketTriaged(
        ticket_id=event.ticket_id,
        category="OTHER",
        priority="NORMAL",
        needs_refund=False,
        summary=f"{ctx.workflow_id}:{ctx.attempt}",
    )


FLAKY = Agent(name="flaky-triage", version="1.0.0", handlers=[flaky_triage])


@handler
async def refund(event: TicketTriaged) -> RefundIssued | None:
    if not event.needs_refund:
        return None
    return RefundIssued(ticket_id=event.ticket_id, refund_id=f"r-{event.ticket_id}", amount_cents=500)


REFUNDS = Agent(name="refunds", version="1.0.0", handlers=[refund])


@handler
async def slow_triage(event: TicketOpened) -> TicketTriaged:
    """Like triage, but each event takes a millisecond (so a stream lasts long enough to stop it midway)."""
    await asyncio.sleep(0.001)
    return await triage(event)


SLOW_TRIAGE = Agent(name="triage", version="1.0.0", handlers=[slow_triage])
