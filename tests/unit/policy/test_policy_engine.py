"""PolicyEngine: counters kept between events, switching to newer set versions only."""

from __future__ import annotations

from pathlib import Path

from policy_helpers import at, event, policy_set

from corps.events.lifecycle import PolicyRef
from corps.policy import Effect, PolicyEngine, PolicyState, decode_record, policy_refs, set_ref
from corps.policy.store import encode_value

V1 = """
set: s
policies:
  - {id: rate, version: 1, throttle: {rate: 1, per: 1m}}
"""
V2 = """
set: s
policies:
  - {id: rate, version: 1, throttle: {rate: 1, per: 1m}}
  - {id: spam, version: 1, condition: "'spam' in event.data.tags", deny: {reason: spam}}
"""


def published(tmp_path: Path, body: str, number: int, offset: int):
    ps = policy_set(tmp_path, body, name=f"v{number}.yaml").numbered(number)
    found = decode_record(ps.name.encode(), encode_value(ps), partition=0, offset=offset)
    assert found is not None
    return found


def test_counters_carry_over_between_events(tmp_path: Path) -> None:
    engine = PolicyEngine(published(tmp_path, V1, 1, 10))
    assert engine.offset == 10
    assert engine.decide(event(data={"tags": []}), at(0)).effect is Effect.ALLOW
    assert engine.decide(event(data={"tags": []}), at(1)).effect is Effect.DENY
    assert len(engine.state) == 1


def test_switch_to_a_newer_version_keeps_counters(tmp_path: Path) -> None:
    engine = PolicyEngine(published(tmp_path, V1, 1, 10))
    engine.decide(event(data={"tags": []}), at(0))
    switch = engine.switch(published(tmp_path, V2, 2, 11))
    assert switch is not None
    assert (switch.previous.number if switch.previous else None, switch.current.number, switch.offset) == (
        1,
        2,
        11,
    )
    assert engine.version.number == 2
    decision = engine.decide(event(data={"tags": ["spam"]}), at(120))
    assert decision.effect is Effect.DENY
    assert decision.set_version.number == 2
    assert engine.decide(event(data={"tags": []}), at(121)).effect is Effect.ALLOW


def test_older_equal_and_foreign_versions_are_ignored(tmp_path: Path) -> None:
    engine = PolicyEngine(published(tmp_path, V2, 2, 11))
    assert engine.switch(published(tmp_path, V1, 1, 10)) is None
    assert engine.switch(published(tmp_path, V2, 2, 12)) is None
    other = policy_set(tmp_path, V2.replace("set: s", "set: other"), name="o.yaml").numbered(9)
    assert engine.switch(other) is None
    assert engine.version.number == 2


def test_refs_for_the_decision_log(tmp_path: Path) -> None:
    engine = PolicyEngine(published(tmp_path, V2, 2, 11), state=PolicyState())
    decision = engine.decide(event(data={"tags": ["spam"]}), at(0))
    assert policy_refs(decision) == (
        PolicyRef(policy_id="rate", policy_version="1"),
        PolicyRef(policy_id="spam", policy_version="1"),
    )
    ref = set_ref(decision.set_version)
    assert ref.policy_id == "set:s"
    assert ref.policy_version == f"2#{decision.set_version.digest}"
