"""The hand-written decision records are byte for byte what the codec and the envelope would write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gate_helpers import models_for, offline_codec, topology_of

from corps.events import Envelope
from corps.events.lifecycle import PolicyDecision, PolicyRef
from corps.orchestrator.topics import TopologyTopics
from corps.orchestrator.wire import decision_body, envelope_headers

T = datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)


@pytest.mark.parametrize(
    "fields",
    [
        {
            "effect": "ALLOW",
            "reason": "ok",
            "policies": (),
            "redacted_fields": (),
            "sequence": 0,
            "prev_hash": "",
        },
        {
            "effect": "DENY",
            "reason": "nope: ünïcode ☕",
            "policies": (
                PolicyRef(policy_id="p1", policy_version="3"),
                PolicyRef(policy_id="p2", policy_version="1"),
            ),
            "redacted_fields": (),
            "sequence": 2**40,
            "prev_hash": "a" * 64,
            "set_name": "support",
            "set_version": 7,
            "set_digest": "d" * 64,
            "evaluated_at_ms": 1_700_000_000_123,
        },
        {
            "effect": "REDACT",
            "reason": "",
            "policies": (),
            "redacted_fields": ("body", "customer.email"),
            "sequence": 63,
            "prev_hash": "b" * 64,
            "evaluated_at_ms": -5,
        },
        {
            "effect": "REQUIRE_APPROVAL",
            "reason": "x" * 300,
            "policies": (),
            "redacted_fields": (),
            "sequence": 64,
            "prev_hash": "c",
        },
    ],
)
def test_decision_body_equals_the_codecs_encoding(fields: dict[str, object]) -> None:
    topology = topology_of()
    codec = offline_codec(topology, models_for(topology))
    topic = TopologyTopics.of(topology).decisions
    values = {
        "decided_event_id": "e-1",
        "decided_event_type": "test.four.A",
        "set_name": "",
        "set_version": 0,
        "set_digest": "",
        "evaluated_at_ms": None,
        **fields,
    }
    envelope = Envelope.new(PolicyDecision.event_type, tenant="acme", workflow_id="wf-1", time=T)
    expected = codec.encode(topic, PolicyDecision(hash="h" * 64, **values), envelope)  # type: ignore[arg-type]
    assert expected.value[5:] == decision_body(link_hash="h" * 64, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("optional", [False, True])
def test_envelope_headers_equal_envelope_to_headers(optional: bool) -> None:
    extra = (
        {
            "causation_id": "c-1",
            "step": "s1",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": "k=v",
        }
        if optional
        else {"causation_id": None, "step": None, "traceparent": None, "tracestate": None}
    )
    envelope = Envelope(
        id="e-1",
        source="corps/gate",
        type="corps.lifecycle.PolicyDecision",
        time=T,
        tenant="t",
        workflow_id="w",
        **extra,
    )
    made = envelope_headers(
        event_id="e-1",
        source="corps/gate",
        event_type="corps.lifecycle.PolicyDecision",
        time=T,
        tenant="t",
        workflow_id="w",
        **extra,  # type: ignore[arg-type]
    )
    assert made == envelope.to_headers()
