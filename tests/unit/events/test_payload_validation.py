"""Payload validation messages name the field and say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from corps.events.demo import TicketOpened
from corps.events.lifecycle import PolicyDecision
from corps.events.validation import problems

GOOD: dict[str, Any] = {
    "ticket_id": "T-1",
    "customer": {"customer_id": "c", "name": "Ann", "email": "a@x"},
    "subject": "s",
    "body": "b",
}
SCHEMA = TicketOpened.schema_ref().parsed


@pytest.mark.parametrize(
    ("datum", "expected"),
    [
        (GOOD, []),
        ({**GOOD, "channel": "CHAT", "refund_amount_cents": None, "tags": []}, []),
        ({**GOOD, "ticket_id": 5}, ["ticket_id: expected string, got integer 5"]),
        ({k: v for k, v in GOOD.items() if k != "subject"}, ["subject: missing required field"]),
        ({**GOOD, "extra": 1}, ["extra: unknown field"]),
        (
            {**GOOD, "customer": {"customer_id": "c"}},
            ["customer.name: missing required field", "customer.email: missing required field"],
        ),
        ({**GOOD, "channel": "FAX"}, ["channel: string 'FAX' is not one of EMAIL, CHAT, PHONE, WEB"]),
        ({**GOOD, "refund_amount_cents": "12"}, ["refund_amount_cents: expected long, got string '12'"]),
        (
            {**GOOD, "refund_amount_cents": 2**63},
            [f"refund_amount_cents: {2**63} is out of range for Avro long"],
        ),
        ({**GOOD, "refund_amount_cents": True}, ["refund_amount_cents: expected long, got boolean True"]),
        ({**GOOD, "tags": ["a", 3]}, ["tags[1]: expected string, got integer 3"]),
        ({**GOOD, "tags": "a"}, ["tags: expected an array, got string 'a'"]),
        ([GOOD], ["(root): expected an object (demo.support.TicketOpened), got array"]),
    ],
)
def test_problems(datum: Any, expected: list[str]) -> None:
    found = problems(SCHEMA, datum)
    assert len(found) == len(expected)
    for message, want in zip(found, expected, strict=True):
        assert message.startswith(want)


def test_arrays_of_records_name_the_index() -> None:
    schema = PolicyDecision.schema_ref().parsed
    datum = {
        "decided_event_id": "e",
        "decided_event_type": "a.B",
        "effect": "ALLOW",
        "reason": "r",
        "sequence": 0,
        "prev_hash": "",
        "hash": "h",
        "policies": [{"policy_id": "p", "policy_version": "1"}, {"policy_id": "q"}],
    }
    assert problems(schema, datum) == ["policies[1].policy_version: missing required field"]
