"""The canonical event bytes and link hashes are pinned: replay recomputes them from the log."""

from __future__ import annotations

import hashlib
import json

import pytest

from corps.events.lifecycle import PolicyRef
from corps.orchestrator.chain import ChainHead, Link, canonical_event, event_digest, link_hash, link_version

HEADERS: list[tuple[str, bytes | None]] = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"e-1"),
    ("ce_type", b"test.four.A"),
    ("content-type", b"application/avro"),
    ("ce_tenant", "café".encode()),
    ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("corps_retry_attempt", b"2"),
]
LINK = Link(event_id="e-1", event_type="test.four.A", effect="ALLOW", reason="ok")


def test_canonical_event_is_sorted_compact_utf8_json_of_ce_headers_key_topic_and_value_digest() -> None:
    value = b"\x00\x00\x00\x00\x07body"
    text = canonical_event("wf.A", b"wf-1", HEADERS, value).decode()
    assert text == (
        '{"headers":{"ce_id":"e-1","ce_specversion":"1.0","ce_tenant":"café","ce_type":"test.four.A",'
        '"content-type":"application/avro"},"key":"wf-1","topic":"wf.A",'
        f'"value_sha256":"{hashlib.sha256(value).hexdigest()}"}}'
    )


def test_hop_headers_do_not_change_the_digest_but_every_event_part_does() -> None:
    base = event_digest("wf.A", b"wf-1", HEADERS, b"v")
    hop_only = [h for h in HEADERS if not h[0].startswith(("traceparent", "corps_"))]
    assert event_digest("wf.A", b"wf-1", hop_only, b"v") == base
    assert event_digest("wf.B", b"wf-1", HEADERS, b"v") != base
    assert event_digest("wf.A", b"wf-2", HEADERS, b"v") != base
    assert event_digest("wf.A", b"wf-1", HEADERS, b"w") != base
    altered = [(n, b"e-2" if n == "ce_id" else v) for n, v in HEADERS]
    assert event_digest("wf.A", b"wf-1", altered, b"v") != base


def test_link_hash_is_sha256_of_the_documented_canonical_json() -> None:
    link = Link(
        event_id="e-1",
        event_type="test.four.A",
        effect="DENY",
        reason="no",
        policies=(PolicyRef(policy_id="p", policy_version="2"),),
        redacted_fields=("a.b",),
    )
    body = {
        "decision": {
            "effect": "DENY",
            "event_id": "e-1",
            "event_type": "test.four.A",
            "policies": [["p", "2"]],
            "reason": "no",
            "redacted_fields": ["a.b"],
        },
        "event": "d" * 64,
        "prev": "p" * 64,
        "sequence": 7,
    }
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert link_hash("p" * 64, 7, link, "d" * 64, 1) == expected


def test_link_format_2_also_hashes_the_policy_set_and_the_evaluation_time() -> None:
    link = Link(
        event_id="e-1",
        event_type="test.four.A",
        effect="DENY",
        reason="no",
        policies=(PolicyRef(policy_id="p", policy_version="2"),),
        redacted_fields=("a.b",),
        set_name="support",
        set_version=3,
        set_digest="s" * 64,
        evaluated_at_ms=1_700_000_000_123,
    )
    decision = {
        "effect": "DENY",
        "evaluated_at_ms": 1_700_000_000_123,
        "event_id": "e-1",
        "event_type": "test.four.A",
        "policies": [["p", "2"]],
        "reason": "no",
        "redacted_fields": ["a.b"],
        "set": {"digest": "s" * 64, "name": "support", "version": 3},
    }
    body = {"decision": decision, "event": "d" * 64, "prev": "p" * 64, "sequence": 7, "v": 2}
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert link_hash("p" * 64, 7, link, "d" * 64, 2) == expected
    assert link_hash("p" * 64, 7, link, "d" * 64) == expected  # the version written now
    unevaluated = Link("e-1", "test.four.A", "ALLOW", "ok")
    body = {
        "decision": {
            "effect": "ALLOW",
            "evaluated_at_ms": None,
            "event_id": "e-1",
            "event_type": "test.four.A",
            "policies": [],
            "reason": "ok",
            "redacted_fields": [],
            "set": {"digest": "", "name": "", "version": 0},
        },
        "event": "d" * 64,
        "prev": "",
        "sequence": 0,
        "v": 2,
    }
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert link_hash("", 0, unevaluated, "d" * 64, 2) == expected


def test_the_link_version_comes_from_the_decision_record_header() -> None:
    assert link_version([("ce_id", b"x")]) == 1
    assert link_version([("ce_chainversion", b"2")]) == 2
    with pytest.raises(ValueError, match="version 9"):
        link_version([("ce_chainversion", b"9")])
    with pytest.raises(ValueError, match="version 9"):
        link_hash("", 0, LINK, "d" * 64, 9)


@pytest.mark.parametrize(
    "changed",
    [
        Link(event_id="e-2", event_type="test.four.A", effect="ALLOW", reason="ok"),
        Link(event_id="e-1", event_type="test.four.B", effect="ALLOW", reason="ok"),
        Link(event_id="e-1", event_type="test.four.A", effect="DENY", reason="ok"),
        Link(event_id="e-1", event_type="test.four.A", effect="ALLOW", reason="ok!"),
        Link(
            event_id="e-1",
            event_type="test.four.A",
            effect="ALLOW",
            reason="ok",
            policies=(PolicyRef(policy_id="p", policy_version="1"),),
        ),
        Link("e-1", "test.four.A", "ALLOW", "ok", set_name="s"),
        Link("e-1", "test.four.A", "ALLOW", "ok", set_version=1),
        Link("e-1", "test.four.A", "ALLOW", "ok", set_digest="d"),
        Link("e-1", "test.four.A", "ALLOW", "ok", evaluated_at_ms=0),
    ],
)
def test_every_decision_field_is_covered_by_the_link_hash(changed: Link) -> None:
    assert link_hash("", 0, changed, "d" * 64) != link_hash("", 0, LINK, "d" * 64)


def test_a_chain_links_each_hash_to_the_previous_and_counts_from_zero() -> None:
    head = ChainHead()
    hashes = []
    for n in range(3):
        previous = head.hash
        head, new = head.extend(LINK, f"{n:064d}")
        assert new == link_hash(previous, n, LINK, f"{n:064d}")
        hashes.append(new)
    assert head == ChainHead(3, hashes[-1])
    assert len(set(hashes)) == 3
    assert link_hash("", 1, LINK, "0" * 64) != hashes[0]  # the position is part of the hash


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "café ☕",
        'quote " and \\ backslash',
        "control \x00\x1f\n\t",
        "emoji 🙂 and \u2028 line sep",
        "",
    ],
)
def test_the_hand_written_canonical_event_equals_json_dumps_of_the_documented_object(text: str) -> None:
    headers: list[tuple[str, bytes | None]] = [
        ("ce_type", text.encode()),
        ("ce_id", b"id"),
        ("content-type", None),
        ("ce_a" + text[:1], b"x"),
        ("other", b"ignored"),
    ]
    expected = {
        "headers": {"ce_type": text, "ce_id": "id", "content-type": "", "ce_a" + text[:1]: "x"},
        "key": text,
        "topic": "t." + text,
        "value_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    canonical = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_event("t." + text, text.encode(), headers, text.encode()) == canonical


def test_uuid5_text_is_uuid5() -> None:
    import uuid

    from corps.orchestrator.gate import uuid5_text

    for name in ("", "wf-1/0", "ünïcode/7", "x" * 300):
        assert uuid5_text(uuid.NAMESPACE_URL, name) == str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@pytest.mark.parametrize(
    "link",
    [
        LINK,
        Link(
            event_id='ü"\\\n',
            event_type="a.B",
            effect="REQUIRE_APPROVAL",
            reason="☕ \u2028 \x01",
            policies=(
                PolicyRef(policy_id="p\u00e9", policy_version="1"),
                PolicyRef(policy_id="q", policy_version=""),
            ),
            redacted_fields=("a", "b.c"),
        ),
    ],
)
def test_the_hand_written_link_hash_equals_the_json_dumps_form(link: Link) -> None:
    body = {
        "decision": {
            "effect": link.effect,
            "event_id": link.event_id,
            "event_type": link.event_type,
            "policies": [[p.policy_id, p.policy_version] for p in link.policies],
            "reason": link.reason,
            "redacted_fields": list(link.redacted_fields),
        },
        "event": "e" * 64,
        "prev": "ü",
        "sequence": 12345678901,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert link_hash("ü", 12345678901, link, "e" * 64, 1) == hashlib.sha256(text.encode()).hexdigest()


def test_replay_verifies_a_version_1_link_and_a_version_2_link() -> None:
    from corps.replay.records import LogRecord
    from corps.replay.verify_chain import ChainLink

    event = LogRecord("wf.A", 0, 0, None, b"wf-1", b"v", list(HEADERS))
    digest = event_digest(event.topic, event.key, event.headers, event.value)
    data = {
        "sequence": 0,
        "decided_event_id": "e-1",
        "decided_event_type": "test.four.A",
        "effect": "ALLOW",
        "reason": "ok",
        "policies": [],
        "redacted_fields": [],
        "prev_hash": "",
        "set_name": "support",
        "set_version": 2,
        "set_digest": "s",
        "evaluated_at_ms": 5,
    }
    link = Link("e-1", "test.four.A", "ALLOW", "ok", set_name="support", set_version=2, set_digest="s")
    old = link_hash("", 0, link, digest, 1)  # written before link format 2: no header
    decision = LogRecord("wf.decisions", 0, 0, None, b"wf-1", b"", [])
    assert ChainLink.of(decision, {**data, "hash": old}).recompute(event) == old
    v2 = Link("e-1", "test.four.A", "ALLOW", "ok", (), (), "support", 2, "s", 5)
    new = link_hash("", 0, v2, digest, 2)
    decision = LogRecord("wf.decisions", 0, 0, None, b"wf-1", b"", [("ce_chainversion", b"2")])
    assert ChainLink.of(decision, {**data, "hash": new}).recompute(event) == new
    tampered = {**data, "hash": new, "set_version": 1}
    assert ChainLink.of(decision, tampered).recompute(event) != new
