"""The sender agent: sends the drafted reply by e-mail (an outbox standing in for the mail service)."""

from __future__ import annotations

from services.support_agents.helpdesk import helpdesk

from corps.events.demo import ReplyDrafted, ReplySent
from corps.runtime import Agent, InvalidInputError, current_context, handler


@handler
async def send(reply: ReplyDrafted) -> ReplySent:
    """Send the reply; an address the mail service refuses is a permanent failure of the step."""
    facts = helpdesk().ticket(reply.ticket_id)
    if facts is None:
        raise InvalidInputError(f"ticket {reply.ticket_id} is unknown to the helpdesk")
    if facts.email.endswith(".invalid"):
        raise InvalidInputError(f"mail service refused {facts.email}: no such mailbox")
    return ReplySent(
        ticket_id=reply.ticket_id, channel="EMAIL", message_id=f"msg-{current_context().event_id}"
    )


agent = Agent(
    name="sender",
    version="1.0.0",
    handlers=[send],
    capabilities=["send-email"],
    description="Sends the reply by e-mail.",
)
