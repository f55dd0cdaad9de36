"""Determinism: re-evaluation gives identical decisions; versions, states and records round-trip."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from policy_helpers import REPO, at, event

from corps.policy import (
    Decision,
    PolicySet,
    PolicyState,
    PolicyStoreError,
    compile_policy_set,
    decode_record,
    evaluate,
    load_policy_files,
)
from corps.policy.offline import parse_cases, run_cases
from corps.policy.state import RateCounter, SpendCounter
from corps.policy.store import PolicyHistory, encode_value

DEMO = REPO / "topology" / "policies" / "support.yaml"
EVENTS = Path(__file__).parent / "support_events.jsonl"


def demo_set() -> PolicySet:
    return load_policy_files([DEMO]).policy_set


def replay(policy_set: PolicySet) -> list[Decision]:
    cases = parse_cases(EVENTS.read_text().splitlines())
    return [r.decision for r in run_cases(compile_policy_set(policy_set), cases)]


def test_re_evaluation_gives_identical_decisions() -> None:
    first, second = replay(demo_set()), replay(demo_set())
    assert first == second
    assert [d.canonical_json() for d in first] == [d.canonical_json() for d in second]


def test_a_recorded_decision_is_reproduced_from_the_recorded_state() -> None:
    """Replay folds the recorded charges into the state, then re-evaluates each event in order."""
    cset = compile_policy_set(demo_set())
    cases = parse_cases(EVENTS.read_text().splitlines())
    recorded = run_cases(cset, cases)
    state = PolicyState()
    for result in recorded:
        again, _ = evaluate(cset, result.case.event, state, result.case.evaluated_at)
        assert again.canonical_json() == result.decision.canonical_json()
        state = state.with_updates({c.key: c.counter for c in result.decision.charges})


def test_evaluation_never_mutates_its_inputs() -> None:
    cset = compile_policy_set(demo_set())
    data = {"ticket_id": "T", "body": "b", "tags": ["pii"], "customer": {"email": "e"}}
    ev = event(data=data)
    state = PolicyState({"ticket-rate|tenant=acme": RateCounter(tat_ns=1)})
    before_data, before_state = json.dumps(data), state.to_json()
    decision, after = evaluate(cset, ev, state, at(0))
    assert json.dumps(data) == before_data
    assert state.to_json() == before_state
    assert after != state
    assert decision.data is not None
    assert decision.data["body"] != data["body"]


def test_the_digest_ignores_file_order_and_formatting(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("set: s\npolicies:\n  - {id: x, version: 1, deny: {reason: r}}\n")
    b.write_text("set: s\n# a comment\npolicies:\n  - id: y\n    version: 1\n    allow: {}\n")
    one = load_policy_files([a, b]).policy_set
    two = load_policy_files([b, a]).policy_set
    assert one.digest == two.digest
    b.write_text("set: s\npolicies:\n  - {id: y, version: 2, allow: {}}\n")
    assert load_policy_files([a, b]).policy_set.digest != one.digest


def test_the_set_round_trips_through_its_record() -> None:
    numbered = demo_set().numbered(7)
    published = decode_record(b"support@7", encode_value(numbered), partition=0, offset=42)
    assert published is not None
    assert published.policy_set == numbered
    assert published.version == numbered.version
    assert (published.key, published.offset) == ("support@7", 42)
    assert replay(published.policy_set) == replay(numbered)


def test_a_record_whose_content_was_altered_is_refused() -> None:
    body = json.loads(encode_value(demo_set().numbered(1)))
    body["content"]["default_effect"] = "deny"
    with pytest.raises(PolicyStoreError, match="does not match the content"):
        decode_record(b"support", json.dumps(body).encode(), partition=0, offset=3)


@pytest.mark.parametrize("value", [b"not json", b"{}", b'{"format": 2, "content": {}, "digest": "x"}'])
def test_garbage_records_are_refused(value: bytes) -> None:
    with pytest.raises(PolicyStoreError):
        decode_record(b"k", value, partition=0, offset=0)


def test_tombstones_are_skipped() -> None:
    assert decode_record(b"k", None, partition=0, offset=0) is None


def test_history_latest_is_the_highest_number_whatever_the_key() -> None:
    base = demo_set()
    history = PolicyHistory()
    records = [(b"support@1", 1, 0), (b"support", 1, 1), (b"support@2", 2, 2)]  # died before the pointer
    new = []
    for key, number, offset in records:
        published = decode_record(key, encode_value(base.numbered(number)), partition=0, offset=offset)
        assert published is not None
        new.append(history.add(published))
    assert new == [True, False, True]
    latest = history.latest("support")
    assert latest is not None
    assert latest.policy_set.number == 2
    assert history.get("support", 1) is not None
    assert history.names() == ["support"]


def test_state_round_trips_through_json() -> None:
    state = PolicyState(
        {"a|tenant=x": RateCounter(tat_ns=1_714_554_000_123_456_789), "b|tenant=x": SpendCounter(1000, 12.5)}
    )
    assert PolicyState.from_json(state.to_json()) == state
    assert PolicyState.from_json(state.to_json()).to_json() == state.to_json()


def test_random_runs_replay_identically_from_serialised_state(tmp_path: Path) -> None:
    """Property: splitting a run anywhere and resuming from the JSON state changes nothing."""
    cset = compile_policy_set(demo_set())
    rng = random.Random(7)
    events = []
    for n in range(300):
        kind = rng.choice(["TicketOpened", "RefundIssued", "ReplyDrafted"])
        data = {
            "tags": rng.choice([[], ["spam"], ["pii"]]),
            "body": "b",
            "amount_cents": rng.randint(0, 30000),
        }
        ev = event(kind, data, tenant=rng.choice(["a", "b"]), event_id=f"e{n}", source="refunds")
        events.append((ev, at(n * rng.random())))
    whole = []
    state = PolicyState()
    for ev, now in events:
        decision, state = evaluate(cset, ev, state, now)
        whole.append(decision.canonical_json())
    cut = 137
    state = PolicyState()
    resumed = []
    for ev, now in events[:cut]:
        decision, state = evaluate(cset, ev, state, now)
        resumed.append(decision.canonical_json())
    state = PolicyState.from_json(state.to_json())
    cset_again = compile_policy_set(demo_set())
    for ev, now in events[cut:]:
        decision, state = evaluate(cset_again, ev, state, now)
        resumed.append(decision.canonical_json())
    assert resumed == whole
    assert len({json.loads(d)["effect"] for d in whole}) >= 3
