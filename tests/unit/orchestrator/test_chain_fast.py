"""The gate's fast paths equal the documented slow forms, byte for byte, on a battery of inputs.

``canonical_event`` (a plan per sequence of header names, cached fragments), ``templated_hash`` (the
fixed parts of a link made once per decision), ``decision_id`` and ``DecisionWriter.write`` (which
fuses all of them) are each compared with the plain composition the module docstrings document.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gate_helpers import models_for, offline_codec, topology_of

from corps.events import Envelope, RawRecord
from corps.events.lifecycle import PolicyDecision, PolicyRef
from corps.orchestrator.chain import (
    ChainHead,
    Link,
    canonical_event,
    event_digest,
    link_hash,
    link_template,
    templated_hash,
    version_header,
)
from corps.orchestrator.ids import _IDS, decision_id, uuid5_text
from corps.orchestrator.policy import Decision
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.orchestrator.wire import DecisionWriter, decision_body, envelope_headers

TEXTS = ["plain", "café ☕", 'q " \\ b', "ctl \x00\x1f\n", "🙂 \u2028", "", "%s {} %%"]
NAMES = [
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "ce_tenant",
    "ce_step",
    "ce_specversion",
    "content-type",
    "ce_workflowid",
    "ce_causationid",
    "ce_x",
    "traceparent",
    "other",
    "corps_dlq",
]


def documented_event(
    topic: str, key: bytes | None, headers: list[tuple[str, bytes | None]], value: bytes | None
) -> bytes:
    """The canonical event bytes exactly as the chain module's docstring defines them."""
    kept = {
        name: (raw or b"").decode(errors="replace")
        for name, raw in headers
        if name.startswith("ce_") or name == "content-type"
    }
    document = {
        "headers": kept,
        "key": (key or b"").decode(errors="replace"),
        "topic": topic,
        "value_sha256": hashlib.sha256(value or b"").hexdigest(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def documented_link(prev: str, sequence: int, link: Link, digest: str) -> str:
    """Link format 2 as documented: SHA-256 of ``json.dumps`` of the documented object."""
    document = {
        "decision": {
            "effect": link.effect,
            "evaluated_at_ms": link.evaluated_at_ms,
            "event_id": link.event_id,
            "event_type": link.event_type,
            "policies": [[p.policy_id, p.policy_version] for p in link.policies],
            "reason": link.reason,
            "redacted_fields": list(link.redacted_fields),
            "set": {"digest": link.set_digest, "name": link.set_name, "version": link.set_version},
        },
        "event": digest,
        "prev": prev,
        "sequence": sequence,
        "v": 2,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _value(rng: random.Random) -> bytes | None:
    choice = rng.random()
    if choice < 0.1:
        return None
    if choice < 0.2:
        return b"\xff\xfe bad utf-8"
    return rng.choice(TEXTS).encode()


def test_canonical_event_equals_the_documented_form_on_a_random_battery() -> None:
    rng = random.Random(7)
    layouts = [rng.sample(NAMES, rng.randint(0, len(NAMES))) for _ in range(12)]
    for case in range(3000):
        names = rng.choice(layouts)  # layouts repeat, so the cached plans and fragments are exercised
        headers = [(name, _value(rng)) for name in names]
        if headers and rng.random() < 0.2:
            headers.append((rng.choice(names), _value(rng)))  # a repeat: the last one counts
        topic, key, value = rng.choice(TEXTS), _value(rng), _value(rng)
        fast = canonical_event(topic, key, headers, value)
        assert fast == documented_event(topic, key, headers, value), (case, headers)
        assert event_digest(topic, key, tuple(headers), value) == hashlib.sha256(fast).hexdigest()


def _links(rng: random.Random, count: int) -> list[Link]:
    policies = [
        (),
        (PolicyRef(policy_id="p\u00e9", policy_version="1"),),
        (PolicyRef(policy_id='q"', policy_version=""), PolicyRef(policy_id="r", policy_version="9")),
    ]
    return [
        Link(
            event_id=rng.choice(TEXTS) + str(n),
            event_type=rng.choice(["a.B", "test.four.A", "x"]),
            effect=rng.choice(["ALLOW", "DENY", "REDACT", "REQUIRE_APPROVAL"]),
            reason=rng.choice(TEXTS),
            policies=rng.choice(policies),
            redacted_fields=rng.choice([(), ("a",), ("b.c", "ü")]),
            set_name=rng.choice(["", "support", "s ☕"]),
            set_version=rng.choice([0, 1, 2**40]),
            set_digest=rng.choice(["", "d" * 64]),
            evaluated_at_ms=rng.choice([None, 0, -5, 1_700_000_000_123]),
        )
        for n in range(count)
    ]


def test_templated_hash_equals_the_documented_link_hash() -> None:
    rng = random.Random(11)
    for link in _links(rng, 500):
        prev, sequence = rng.choice(["", "ab" * 32, "ü"]), rng.choice([0, 1, 12345678901])
        digest = hashlib.sha256(link.event_id.encode()).hexdigest()
        expected = documented_link(prev, sequence, link, digest)
        template = link_template(link._replace(event_id="other", event_type="other"))  # id/type not in it
        assert templated_hash(template, prev, sequence, link.event_id, link.event_type, digest) == expected
        assert link_hash(prev, sequence, link, digest) == expected


def test_decision_id_is_uuid5_of_the_workflow_and_sequence() -> None:
    for workflow_id in ("wf-1", "ünï", "x" * 300, "a/b"):
        for sequence in (0, 1, 99, 2**40):
            expected = str(uuid.uuid5(_IDS, f"{workflow_id}/{sequence}"))
            assert (
                decision_id(workflow_id, sequence)
                == expected
                == uuid5_text(_IDS, f"{workflow_id}/{sequence}")
            )


def _decisions() -> list[Decision]:
    refs = (PolicyRef(policy_id="p1", policy_version="3"),)
    at = datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)
    return [
        Decision.allow("admitted"),
        Decision.deny("duplicate: ☕", refs),
        Decision(
            effect="REDACT",
            reason="r",
            redacted_fields=("body",),
            value=b"\x00v",
            set_name="s",
            set_version=4,
            set_digest="d" * 64,
            evaluated_at=at,
        ),
        Decision(effect="REQUIRE_APPROVAL", reason="ask", policies=refs, evaluated_at=at - timedelta(days=1)),
    ]


def _envelope(n: int, optional: bool) -> Envelope:
    extra: dict[str, Any] = (
        {
            "causation_id": f"c-{n}",
            "step": "s1",
            "tracestate": "k=v",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        }
        if optional
        else {}
    )
    time = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=n * 7)
    return Envelope.new("test.four.A", tenant="acme", workflow_id=f"wf-{n % 3}", time=time, **extra)


@pytest.mark.parametrize("optional", [False, True])
def test_decision_writer_equals_the_documented_composition(optional: bool) -> None:
    topology = topology_of()
    codec = offline_codec(topology, models_for(topology))
    topic = TopologyTopics.of(topology).decisions
    writer = DecisionWriter(codec, topic)
    frame = b"\x00" + codec.prepare(topic, PolicyDecision.schema_ref()).to_bytes(4, "big")
    decisions = _decisions()
    head = ChainHead()
    for n in range(40):
        envelope = _envelope(n, optional)
        written = RawRecord(
            "four.A.proposed", n % 3, n, envelope.key, b"\x00\x00\x00\x00\x01v", envelope.to_headers()
        )
        # the same decision objects again and again (templates reused) and equal copies (templates made)
        decision = (
            decisions[n % 4]
            if n % 5
            else Decision(**{f: getattr(decisions[n % 4], f) for f in Decision.__slots__})
        )
        out: list[OutRecord] = []
        new_head = writer.write(head, n % 3, written.topic, written, envelope, decision, out)
        evaluated = decision.evaluated_at
        ms = None if evaluated is None else int(evaluated.timestamp() * 1000)
        digest = event_digest(written.topic, written.key, written.headers, written.value)
        link = Link(
            envelope.id,
            envelope.type,
            decision.effect,
            decision.reason,
            decision.policies,
            decision.redacted_fields,
            decision.set_name,
            decision.set_version,
            decision.set_digest,
            ms,
        )
        expected_hash = link_hash(head.hash, head.sequence, link, digest)
        assert new_head == ChainHead(head.sequence + 1, expected_hash)
        body = decision_body(
            decided_event_id=envelope.id,
            decided_event_type=envelope.type,
            effect=decision.effect,
            reason=decision.reason,
            policies=decision.policies,
            redacted_fields=decision.redacted_fields,
            sequence=head.sequence,
            prev_hash=head.hash,
            link_hash=expected_hash,
            set_name=decision.set_name,
            set_version=decision.set_version,
            set_digest=decision.set_digest,
            evaluated_at_ms=ms,
        )
        headers = envelope_headers(
            event_id=decision_id(envelope.workflow_id, head.sequence),
            source="corps/gate",
            event_type=PolicyDecision.event_type,
            time=envelope.time,
            tenant=envelope.tenant,
            workflow_id=envelope.workflow_id,
            causation_id=envelope.id,
            step=envelope.step,
            traceparent=envelope.traceparent,
            tracestate=envelope.tracestate,
        )
        expected = OutRecord(topic, n % 3, envelope.key, frame + body, [*headers, version_header()])
        assert out == [expected]
        head = new_head
