"""Event models of the ``demo.support`` namespace: generated from ``schemas/``, do not edit.

Regenerate with ``python -m corps.events.codegen`` after changing a schema; a unit test fails when
this file no longer matches the ``.avsc`` files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from corps.events.model import AvroLong, EventModel

__all__ = [
    "EVENTS",
    "Channel",
    "Customer",
    "Priority",
    "RefundIssued",
    "RefundReversed",
    "ReplyDrafted",
    "ReplySent",
    "TicketCategory",
    "TicketOpened",
    "TicketTriaged",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RefundIssued(EventModel):
    """A refund was issued.

    Compensable: its compensation event is RefundReversed.

    Event type ``demo.support.RefundIssued``, schema version 2.
    """

    event_type: ClassVar[str] = "demo.support.RefundIssued"
    schema_version: ClassVar[int] = 2
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "RefundIssued",
        "namespace": "demo.support",
        "doc": "A refund was issued. Compensable: its compensation event is RefundReversed.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {"name": "refund_id", "type": "string", "doc": "Id of the refund at the payment provider."},
            {
                "name": "amount_cents",
                "type": "long",
                "doc": "Refunded amount in cents (v2: long; v1 readers cannot read v2).",
            },
            {"name": "currency", "type": "string", "doc": "ISO 4217 currency code.", "default": "EUR"},
            {
                "name": "reason",
                "type": ["null", "string"],
                "default": None,
                "doc": "Why the refund was issued (v2).",
            },
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    refund_id: str
    """Id of the refund at the payment provider."""
    amount_cents: AvroLong
    """Refunded amount in cents (v2: long; v1 readers cannot read v2)."""
    currency: str = "EUR"
    """ISO 4217 currency code."""
    reason: str | None = None
    """Why the refund was issued (v2)."""


class RefundReversed(EventModel):
    """A refund was reversed: the compensation of RefundIssued.

    Event type ``demo.support.RefundReversed``, schema version 1.
    """

    event_type: ClassVar[str] = "demo.support.RefundReversed"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "RefundReversed",
        "namespace": "demo.support",
        "doc": "A refund was reversed: the compensation of RefundIssued.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {"name": "refund_id", "type": "string", "doc": "The refund that was reversed."},
            {"name": "amount_cents", "type": "long", "doc": "Reversed amount in cents."},
            {"name": "reason", "type": "string", "doc": "Why the refund was reversed."},
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    refund_id: str
    """The refund that was reversed."""
    amount_cents: AvroLong
    """Reversed amount in cents."""
    reason: str
    """Why the refund was reversed."""


class ReplyDrafted(EventModel):
    """The drafting agent wrote a reply to the customer.

    Event type ``demo.support.ReplyDrafted``, schema version 1.
    """

    event_type: ClassVar[str] = "demo.support.ReplyDrafted"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "ReplyDrafted",
        "namespace": "demo.support",
        "doc": "The drafting agent wrote a reply to the customer.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {"name": "body", "type": "string", "doc": "The drafted reply."},
            {
                "name": "model",
                "type": ["null", "string"],
                "default": None,
                "doc": "The language model that drafted it, if any.",
            },
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    body: str
    """The drafted reply."""
    model: str | None = None
    """The language model that drafted it, if any."""


Channel = Literal["EMAIL", "CHAT", "PHONE", "WEB"]
"""Where the customer reached us."""


class ReplySent(EventModel):
    """The reply reached the customer.

    Irreversible: it cannot be compensated.

    Event type ``demo.support.ReplySent``, schema version 1.
    """

    event_type: ClassVar[str] = "demo.support.ReplySent"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "ReplySent",
        "namespace": "demo.support",
        "doc": "The reply reached the customer. Irreversible: it cannot be compensated.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {
                "name": "channel",
                "type": {
                    "type": "enum",
                    "name": "Channel",
                    "namespace": "demo.support",
                    "doc": "Where the customer reached us.",
                    "symbols": ["EMAIL", "CHAT", "PHONE", "WEB"],
                    "default": "WEB",
                },
                "doc": "Where the reply was sent.",
                "default": "WEB",
            },
            {"name": "message_id", "type": "string", "doc": "Id of the sent message at the channel."},
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    channel: Channel = "WEB"
    """Where the reply was sent."""
    message_id: str
    """Id of the sent message at the channel."""


class Customer(BaseModel):
    """Who opened the ticket."""

    model_config = _FROZEN

    customer_id: str
    """Stable id of the customer."""
    name: str
    """Display name."""
    email: str
    """Contact address."""


class TicketOpened(EventModel):
    """A customer opened a support ticket: the task event that starts the support workflow.

    Event type ``demo.support.TicketOpened``, schema version 1.
    """

    event_type: ClassVar[str] = "demo.support.TicketOpened"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "TicketOpened",
        "namespace": "demo.support",
        "doc": "A customer opened a support ticket: the task event that starts the support workflow.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {
                "name": "customer",
                "type": {
                    "type": "record",
                    "name": "Customer",
                    "namespace": "demo.support",
                    "doc": "Who opened the ticket.",
                    "fields": [
                        {"name": "customer_id", "type": "string", "doc": "Stable id of the customer."},
                        {"name": "name", "type": "string", "doc": "Display name."},
                        {"name": "email", "type": "string", "doc": "Contact address."},
                    ],
                },
                "doc": "Who opened the ticket.",
            },
            {"name": "subject", "type": "string", "doc": "Subject line."},
            {"name": "body", "type": "string", "doc": "What the customer wrote."},
            {
                "name": "channel",
                "type": {
                    "type": "enum",
                    "name": "Channel",
                    "namespace": "demo.support",
                    "doc": "Where the customer reached us.",
                    "symbols": ["EMAIL", "CHAT", "PHONE", "WEB"],
                    "default": "WEB",
                },
                "doc": "Where the customer reached us.",
                "default": "WEB",
            },
            {
                "name": "refund_amount_cents",
                "type": ["null", "long"],
                "default": None,
                "doc": "Refund asked for, in cents, if any.",
            },
            {
                "name": "tags",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Free-form tags.",
            },
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    customer: Customer
    """Who opened the ticket."""
    subject: str
    """Subject line."""
    body: str
    """What the customer wrote."""
    channel: Channel = "WEB"
    """Where the customer reached us."""
    refund_amount_cents: AvroLong | None = None
    """Refund asked for, in cents, if any."""
    tags: tuple[str, ...] = ()
    """Free-form tags."""


TicketCategory = Literal["BILLING", "TECHNICAL", "ACCOUNT", "OTHER"]
"""What the ticket is about."""


Priority = Literal["LOW", "NORMAL", "HIGH", "URGENT"]
"""How urgent the ticket is."""


class TicketTriaged(EventModel):
    """The triage agent classified a ticket.

    Event type ``demo.support.TicketTriaged``, schema version 2.
    """

    event_type: ClassVar[str] = "demo.support.TicketTriaged"
    schema_version: ClassVar[int] = 2
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "TicketTriaged",
        "namespace": "demo.support",
        "doc": "The triage agent classified a ticket.",
        "fields": [
            {"name": "ticket_id", "type": "string", "doc": "Id of the ticket."},
            {
                "name": "category",
                "type": {
                    "type": "enum",
                    "name": "TicketCategory",
                    "namespace": "demo.support",
                    "doc": "What the ticket is about.",
                    "symbols": ["BILLING", "TECHNICAL", "ACCOUNT", "OTHER"],
                    "default": "OTHER",
                },
                "doc": "What the ticket is about.",
            },
            {
                "name": "priority",
                "type": {
                    "type": "enum",
                    "name": "Priority",
                    "namespace": "demo.support",
                    "doc": "How urgent the ticket is.",
                    "symbols": ["LOW", "NORMAL", "HIGH", "URGENT"],
                    "default": "NORMAL",
                },
                "doc": "How urgent the ticket is.",
            },
            {"name": "needs_refund", "type": "boolean", "doc": "Whether the triage thinks a refund is due."},
            {
                "name": "confidence",
                "type": "double",
                "doc": "Confidence of the triage, 0..1 (v2; v1 events read as 1.0).",
                "default": 1.0,
            },
            {
                "name": "summary",
                "type": ["null", "string"],
                "default": None,
                "doc": "One-line summary of the ticket (v2).",
            },
        ],
    }

    ticket_id: str
    """Id of the ticket."""
    category: TicketCategory
    """What the ticket is about."""
    priority: Priority
    """How urgent the ticket is."""
    needs_refund: bool
    """Whether the triage thinks a refund is due."""
    confidence: float = 1.0
    """Confidence of the triage, 0..1 (v2; v1 events read as 1.0)."""
    summary: str | None = None
    """One-line summary of the ticket (v2)."""


EVENTS: tuple[type[EventModel], ...] = (
    RefundIssued,
    RefundReversed,
    ReplyDrafted,
    ReplySent,
    TicketOpened,
    TicketTriaged,
)
"""Every event model of ``demo.support``."""
