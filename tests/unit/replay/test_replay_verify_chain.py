"""The chain check finds forged, altered, missing, duplicated and reordered events, and chain gaps."""

from __future__ import annotations

import dataclasses

from replay_log import LogMaker

from corps.events import RawRecord
from corps.replay.coverage import Coverage
from corps.replay.verification import Verification
from corps.replay.verify import verify_log


def verify(maker: LogMaker, log: list[RawRecord], coverage: Coverage | None = None) -> Verification:
    return verify_log(
        maker.by_workflow(log),
        topology=maker.topology,
        topics=maker.replay_topics,
        codec=maker.codec,
        coverage=coverage or Coverage.everything(maker.replay_topics.roles),
    )


def kinds(verification: Verification) -> list[tuple[str, str, int | None]]:
    return [(f.kind, f.workflow_id, f.sequence) for f in verification.errors]


def record(maker: LogMaker, topic: str, wf: str, index: int = 0) -> RawRecord:
    return [r for r in maker.log if r.topic == topic and r.key == wf.encode()][index]


def test_an_intact_log_verifies_with_every_link_recomputed(maker: LogMaker) -> None:
    result = verify(maker, maker.log)
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["chains"] == 4
    assert result.counts["links"] == result.counts["links_verified"] == 35
    assert result.counts["workflows_rederived"] == 4


def test_a_forged_event_in_an_admitted_topic_is_reported(maker: LogMaker) -> None:
    original = record(maker, "rp.B", "wf-1")
    headers = [
        (n, b"f0f0f0f0-0000-4000-8000-000000000000" if n == "ce_id" else v) for n, v in original.headers
    ]
    forged = RawRecord("rp.B", 0, 50, original.key, original.value, headers, original.timestamp_ms)
    result = verify(maker, [*maker.log, forged])
    assert kinds(result) == [("forged", "wf-1", None)]
    assert result.errors[0].location == "rp.B[0]@50"


def test_a_record_without_an_envelope_in_an_admitted_topic_is_forged(maker: LogMaker) -> None:
    garbage = RawRecord("rp.C", 1, 9, b"wf-3", b"\x00\x00\x00\x00\x01junk", [], 0)
    result = verify(maker, [*maker.log, garbage])
    assert [(f.kind, f.location) for f in result.errors] == [("forged", "rp.C[1]@9")]


def test_an_altered_copy_next_to_the_original_is_reported_against_its_link(maker: LogMaker) -> None:
    original = record(maker, "rp.C", "wf-1")
    value = original.value or b""
    altered = RawRecord("rp.C", 0, 60, original.key, value[:-1] + b"!", list(original.headers), 0)
    result = verify(maker, [*maker.log, altered])
    assert kinds(result) == [("altered", "wf-1", 3)]
    assert "altered copy" in result.errors[0].message
    assert result.errors[0].location == "rp.C[0]@60"


def test_an_event_altered_in_place_breaks_its_link_and_stops_rederivation(maker: LogMaker) -> None:
    original = record(maker, "rp.C", "wf-1")
    headers = [(n, b"other-tenant" if n == "ce_tenant" else v) for n, v in original.headers]
    altered = dataclasses.replace(original, headers=headers)
    result = verify(maker, [altered if r is original else r for r in maker.log])
    assert kinds(result) == [("altered", "wf-1", 3)]
    assert any(f.kind == "not-rederived" and f.workflow_id == "wf-1" for f in result.notes)


def test_a_missing_event_is_a_gap_named_by_its_link(maker: LogMaker) -> None:
    gone = record(maker, "rp.lifecycle", "wf-2", 2)  # CompensationRequested (s2)
    result = verify(maker, [r for r in maker.log if r is not gone])
    assert kinds(result) == [("missing", "wf-2", 5)]
    assert "CompensationRequested" in result.errors[0].message


def test_a_missing_decision_record_is_a_chain_gap(maker: LogMaker) -> None:
    gone = record(maker, "rp.decisions", "wf-1", 2)
    result = verify(maker, [r for r in maker.log if r is not gone])
    assert ("chain-gap", "wf-1", 2) in kinds(result)
    assert ("forged", "wf-1", None) in kinds(result)  # the event link 2 admitted has no link left


def test_a_missing_first_link_is_a_chain_gap_when_the_range_starts_at_zero(maker: LogMaker) -> None:
    gone = record(maker, "rp.decisions", "wf-3", 0)
    result = verify(maker, [r for r in maker.log if r is not gone])
    assert ("chain-gap", "wf-3", 1) in kinds(result)


def test_an_altered_link_is_reported(maker: LogMaker) -> None:
    link = record(maker, "rp.decisions", "wf-4", 3)
    decoded = maker.records([link])[0]
    assert decoded.data is not None
    from corps.events.lifecycle import PolicyDecision

    payload = PolicyDecision.model_validate({**decoded.data, "reason": "nothing to see"})
    encoded = maker.codec.encode("rp.decisions", payload, maker.codec.envelope(link))
    altered = dataclasses.replace(link, value=encoded.value)
    result = verify(maker, [altered if r is link else r for r in maker.log])
    assert ("altered", "wf-4", 3) in kinds(result)


def test_a_duplicate_copy_of_an_admitted_event_is_reported(maker: LogMaker) -> None:
    original = record(maker, "rp.D", "wf-1")
    copy = dataclasses.replace(original, offset=70)
    result = verify(maker, [*maker.log, copy])
    assert kinds(result) == [("duplicate", "wf-1", 4)]


def test_events_reordered_on_their_partition_are_reported(maker: LogMaker) -> None:
    first, second = record(maker, "rp.lifecycle", "wf-2", 1), record(maker, "rp.lifecycle", "wf-2", 2)
    swapped = {
        id(first): dataclasses.replace(first, offset=second.offset),
        id(second): dataclasses.replace(second, offset=first.offset),
    }
    result = verify(maker, [swapped.get(id(r), r) for r in maker.log])
    assert [f.kind for f in result.errors] == ["reordered"]
    assert result.errors[0].workflow_id == "wf-2"


def test_links_reordered_in_the_decision_log_are_reported(maker: LogMaker) -> None:
    first, second = record(maker, "rp.decisions", "wf-1", 1), record(maker, "rp.decisions", "wf-1", 2)
    swapped = {
        id(first): dataclasses.replace(first, offset=second.offset),
        id(second): dataclasses.replace(second, offset=first.offset),
    }
    result = verify(maker, [swapped.get(id(r), r) for r in maker.log])
    assert ("reordered", "wf-1", 1) in kinds(result)


def test_a_range_starting_inside_chains_notes_instead_of_failing(maker: LogMaker) -> None:
    late = [r for r in maker.log if not (r.partition == 0 and r.offset < 3)]
    coverage = Coverage(
        topics=frozenset(maker.replay_topics.roles),
        starts={(topic, 0): 3 for topic in maker.replay_topics.roles},
    )
    result = verify(maker, late, coverage)
    assert result.ok, [f.describe() for f in result.errors]
    assert any(f.kind == "partial-chain" for f in result.notes)


def test_a_decision_log_that_was_not_read_is_a_note_not_a_pass(maker: LogMaker) -> None:
    coverage = Coverage.everything(t for t in maker.replay_topics.roles if t != "rp.decisions")
    result = verify(maker, [r for r in maker.log if r.topic != "rp.decisions"], coverage)
    assert result.ok
    assert [f.kind for f in result.notes] == ["not-read"]
    assert result.counts == {}
