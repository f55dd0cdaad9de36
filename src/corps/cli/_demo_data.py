"""The support tickets ``corps demo`` publishes, each with the story it is meant to tell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DemoTicket", "demo_tickets"]


@dataclass(frozen=True)
class DemoTicket:
    """One ticket of the demo and what should become of it."""

    ticket_id: str
    workflow_id: str
    story: str
    expected: str
    email: str
    subject: str
    refund_amount_cents: int | None = None
    tags: tuple[str, ...] = ()
    tenant: str = "acme"

    def cloudevent(self) -> dict[str, Any]:
        """The CloudEvents JSON line ``corps publish`` reads (workflow id and tenant chosen here)."""
        return {
            "specversion": "1.0",
            "type": "demo.support.TicketOpened",
            "workflowid": self.workflow_id,
            "tenant": self.tenant,
            "data": {
                "ticket_id": self.ticket_id,
                "customer": {
                    "customer_id": f"C-{self.ticket_id}",
                    "name": f"Customer {self.ticket_id}",
                    "email": self.email,
                },
                "subject": self.subject,
                "body": f"{self.subject}. Please help.",
                "channel": "EMAIL",
                "refund_amount_cents": self.refund_amount_cents,
                "tags": list(self.tags),
            },
        }


def demo_tickets(run_id: str) -> list[DemoTicket]:
    """The demo's tickets; workflow ids carry ``run_id`` so reruns on the same log stay apart."""

    def t(n: int, story: str, expected: str, **kw: Any) -> DemoTicket:
        ticket_id = f"T-{n}"
        return DemoTicket(
            ticket_id=ticket_id,
            workflow_id=f"demo-{run_id}-{n}",
            story=story,
            expected=expected,
            email=kw.pop("email", f"customer{n}@example.com"),
            subject=kw.pop("subject", "Order arrived damaged"),
            **kw,
        )

    return [
        t(1001, "completes (small refund)", "completed", refund_amount_cents=2500),
        t(1002, "completes (no refund due)", "completed", subject="How do I reset my password?"),
        t(1003, "completes (small refund)", "completed", refund_amount_cents=4000),
        t(1004, "denied by policy (tagged spam)", "denied", tags=("spam",), subject="Buy cheap watches"),
        t(1005, "needs approval (refund 250.00), approved", "completed", refund_amount_cents=25000),
        t(
            1006,
            "fails at send, refund compensated",
            "compensated",
            refund_amount_cents=3000,
            email="nobody@bounce.invalid",
        ),
    ]
