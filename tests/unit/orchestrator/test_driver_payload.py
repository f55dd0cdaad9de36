"""The orchestrator keeps a compensable step's payload as JSON text (what the compensation is sent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from corps.orchestrator.driver import payload_json


def test_payload_json_is_sorted_compact_json_with_text_for_bytes_times_and_decimals() -> None:
    data = {
        "z": 1,
        "amount": Decimal("12.50"),
        "blob": b"\x00\xff",
        "at": datetime(2026, 1, 1, 12, 30, tzinfo=UTC),
        "nested": {"b": [1, 2.5, None, True], "a": "é\n"},
    }
    assert payload_json(data) == (
        '{"amount":"12.50","at":"2026-01-01T12:30:00+00:00","blob":"AP8=",'
        '"nested":{"a":"\\u00e9\\n","b":[1,2.5,null,true]},"z":1}'
    )
    assert json.loads(payload_json(data))["blob"] == "AP8="


def test_payload_json_is_the_same_text_every_time() -> None:
    data = {"ticket_id": "t-1", "refund_id": "r-1", "amount_cents": 1250, "reason": None}
    assert payload_json(data) == payload_json(dict(reversed(data.items())))
    assert payload_json(data) == '{"amount_cents":1250,"reason":null,"refund_id":"r-1","ticket_id":"t-1"}'
