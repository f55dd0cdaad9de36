"""The gate on the real broker: admits byte for byte, chains every decision, dead-letters poison."""

from __future__ import annotations

from typing import Any, cast

import pytest
from confluent_kafka import Producer
from tests.integration.orchestrator.orch_bed import Bed, ServiceThread, Tail, header

from corps.events import Envelope, RawRecord
from corps.events.lifecycle import PolicyDecision
from corps.orchestrator.chain import ChainHead, Link, event_digest
from corps.runtime.dlq import DeadLetter

pytestmark = pytest.mark.integration


def propose_raw(
    bed: Bed, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    producer = Producer(bed.config)
    producer.produce(topic, value, key, headers=cast(Any, headers))
    assert producer.flush(30) == 0


def test_gate_admits_chains_and_dead_letters_on_the_log(bed: Bed) -> None:
    topics = bed.topics
    good_ids = [bed.start(f"wf-{n}") for n in range(5)]
    bed.start("wf-0")  # the same start event again: never admitted twice
    proposed_a = next(t for t, e in topics.proposed.items() if e == "A")
    envelope = Envelope.new("test.four.A", tenant="acme", workflow_id="wf-bad", source="test")
    propose_raw(
        bed, proposed_a, b"wf-bad", b"\x00\x00\x00\x7f\xffjunk", envelope.to_headers()
    )  # unknown schema id
    propose_raw(bed, proposed_a, b"wf-none", b"whatever", [("x", b"y")])  # no envelope at all
    bed.flush()

    admitted = Tail(bed, topics.admitted["A"])
    decisions = Tail(bed, topics.decisions)
    with ServiceThread(bed, bed.settings(orchestrate=False)):
        dead = Tail(bed, topics.dead_letters)  # the service creates its dead-letter topic
        admitted.until(lambda r: len(r) >= 5)
        decisions.until(lambda r: len(r) >= 7)
        dead.until(lambda r: len(r) >= 2)
        for tail in (admitted, decisions, dead):
            tail.poll(1.0)  # anything more would be a duplicate

    assert sorted(header(r, "ce_id") for r in admitted.records) == sorted(good_ids)
    links: dict[str, list[tuple[RawRecord, PolicyDecision]]] = {}
    for record in decisions.records:
        event = bed.codec.decode(record, PolicyDecision)
        links.setdefault(event.envelope.workflow_id, []).append((record, event.payload))
    assert len(links["wf-0"]) == 2
    first, duplicate = (payload for _, payload in links["wf-0"])
    assert (first.effect, duplicate.effect, duplicate.sequence, duplicate.prev_hash) == (
        "ALLOW",
        "DENY",
        1,
        first.hash,
    )
    by_id = {header(r, "ce_id"): r for r in admitted.records}
    for wf in (f"wf-{n}" for n in range(5)):
        record, decision = links[wf][0]
        decided = by_id[decision.decided_event_id]
        assert record.partition == decided.partition
        digest = event_digest(decided.topic, decided.key, decided.headers, decided.value)
        link = Link(decision.decided_event_id, decision.decided_event_type, "ALLOW", decision.reason)
        assert decision.hash == ChainHead().extend(link, digest)[1], "the chain is recomputable from the log"
    [(_, refused)] = links["wf-bad"]
    assert refused.effect == "DENY"
    assert refused.reason.startswith("unknown-schema-id")
    letters = {
        DeadLetter.from_record(
            topic=r.topic, partition=r.partition, offset=r.offset, key=r.key, value=r.value, headers=r.headers
        ).reason: r
        for r in dead.records
    }
    assert sorted(letters) == ["bad-envelope", "unknown-schema-id"]
    assert letters["bad-envelope"].value == b"whatever"
    assert "wf-none" not in links
