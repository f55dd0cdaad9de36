"""Throttle: GCRA per key with an injected clock; state only changes for admitted events."""

from __future__ import annotations

from pathlib import Path

from policy_helpers import at, compiled, decide, event

from corps.policy import Effect, Outcome, PolicyState
from corps.policy.state import RateCounter

THROTTLE = """
set: t
policies:
  - id: rate
    version: 1
    match: {{events: [TicketOpened]}}
    throttle: {{rate: {rate}, per: {per}, {burst} by: [{by}]}}
"""


def make(tmp_path: Path, rate: int = 2, per: str = "1s", burst: int | None = None, by: str = "tenant"):
    burst_text = f"burst: {burst}," if burst else ""
    return compiled(tmp_path, THROTTLE.format(rate=rate, per=per, burst=burst_text, by=by))


def run(cset, times: list[float], **kwargs: str) -> list[Effect]:
    state = PolicyState()
    effects = []
    for n, t in enumerate(times):
        decision, state = decide(cset, event(event_id=f"e{n}", **kwargs), state, at(t))
        effects.append(decision.effect)
    return effects


def test_burst_defaults_to_the_rate(tmp_path: Path) -> None:
    assert run(make(tmp_path), [0, 0, 0]) == [Effect.ALLOW, Effect.ALLOW, Effect.DENY]


def test_the_bucket_refills_at_the_rate(tmp_path: Path) -> None:
    times = [0, 0, 0.4, 0.5, 0.9, 1.0]
    assert run(make(tmp_path), times) == [
        Effect.ALLOW, Effect.ALLOW,  # the burst
        Effect.DENY,                 # 0.4 s: half a token back
        Effect.ALLOW,                # 0.5 s: one token
        Effect.DENY,
        Effect.ALLOW,                # 1.0 s
    ]  # fmt: skip


def test_explicit_burst(tmp_path: Path) -> None:
    effects = run(make(tmp_path, rate=1, per="1s", burst=3), [0, 0, 0, 0, 1, 1])
    assert effects == [Effect.ALLOW] * 3 + [Effect.DENY, Effect.ALLOW, Effect.DENY]


def test_the_rate_holds_over_a_long_run(tmp_path: Path) -> None:
    # 10 events/s offered from 0 s to 59.9 s against 5/s with a burst of 5: the admitted count is the
    # burst plus the rate times the span, 5 + 5 * 59.9 = 304.5, so 304 — and every denied event is a
    # surplus one (admitted events are never closer than the rate allows once the burst is spent).
    times = [n / 10 for n in range(600)]
    effects = run(make(tmp_path, rate=5, per="1s", burst=5), times)
    assert effects.count(Effect.ALLOW) == 304
    admitted = [t for t, e in zip(times, effects, strict=True) if e is Effect.ALLOW]
    for window_start in range(0, 55, 5):  # any 5 s window after the first second: 25 +- 1 admitted
        inside = [t for t in admitted if window_start + 1 <= t < window_start + 6]
        assert 24 <= len(inside) <= 26, (window_start, len(inside))


def test_keys_are_separate_per_tenant(tmp_path: Path) -> None:
    cset = make(tmp_path, rate=1)
    state = PolicyState()
    a1, state = decide(cset, event(tenant="a"), state, at(0))
    b1, state = decide(cset, event(tenant="b"), state, at(0))
    a2, state = decide(cset, event(tenant="a"), state, at(0))
    assert (a1.effect, b1.effect, a2.effect) == (Effect.ALLOW, Effect.ALLOW, Effect.DENY)
    assert sorted(state.counters) == ["rate|tenant=a", "rate|tenant=b"]


def test_keys_by_several_scopes_are_escaped(tmp_path: Path) -> None:
    cset = make(tmp_path, rate=1, by="tenant, source")
    decision, state = decide(cset, event(tenant="a|b", source="x=y"), PolicyState(), at(0))
    assert list(state.counters) == ["rate|tenant=a%7Cb|source=x%3Dy"]
    assert decision.charges[0].key == "rate|tenant=a%7Cb|source=x%3Dy"


def test_a_throttled_event_changes_no_counter(tmp_path: Path) -> None:
    cset = make(tmp_path, rate=1)
    _, state = decide(cset, event(), PolicyState(), at(0))
    decision, after = decide(cset, event(), state, at(0.1))
    assert decision.effect is Effect.DENY
    assert after is state
    assert decision.policies[0].outcome is Outcome.DENY
    assert "over 1 per 1s (tenant=acme)" in decision.reason


def test_a_denied_event_does_not_consume_the_rate(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - {id: rate, version: 1, throttle: {rate: 1, per: 1m}}
      - {id: spam, version: 1, condition: "event.data.spam", deny: {reason: spam}}
    """
    cset = compiled(tmp_path, body)
    d1, state = decide(cset, event(data={"spam": True}), PolicyState(), at(0))
    d2, state = decide(cset, event(data={"spam": False}), state, at(1))
    assert (d1.effect, d2.effect) == (Effect.DENY, Effect.ALLOW)


def test_the_state_holds_one_integer_per_key(tmp_path: Path) -> None:
    _, state = decide(make(tmp_path, rate=4), event(), PolicyState(), at(0))
    counter = state.get("rate|tenant=acme")
    assert isinstance(counter, RateCounter)
    assert counter.tat_ns == (int(at(0).timestamp()) * 10**9) + 250_000_000


def test_context_counters_show_the_backlog(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - {id: rate, version: 1, throttle: {rate: 10, per: 1s}}
      - {id: busy, version: 1, condition: "context.counters['rate'] >= 3", deny: {reason: busy}}
    """
    cset = compiled(tmp_path, body)
    state = PolicyState()
    effects = []
    for n in range(5):
        decision, state = decide(cset, event(event_id=f"e{n}"), state, at(0))
        effects.append(decision.effect)
    assert effects == [Effect.ALLOW] * 3 + [Effect.DENY] * 2


def test_pruning_drops_empty_buckets_only(tmp_path: Path) -> None:
    cset = make(tmp_path, rate=1)
    _, state = decide(cset, event(tenant="a"), PolicyState(), at(0))
    _, state = decide(cset, event(tenant="b"), state, at(10))
    assert sorted(cset.prune(state, at(10.5)).counters) == ["rate|tenant=b"]
    assert len(cset.prune(state, at(20))) == 0
