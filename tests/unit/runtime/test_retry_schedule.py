"""Backoff maths and the retry headers of delayed retry topics."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from corps.runtime import RetryPolicy
from corps.runtime.retry import RetryHeaderError, RetryHeaders, retry_topic, strip_retry_headers


def test_nominal_delays_grow_exponentially_and_cap() -> None:
    policy = RetryPolicy(max_attempts=10, initial_delay=1, multiplier=2, max_delay=10, jitter=0)
    assert [policy.nominal_delay(k) for k in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(max_attempts=100, initial_delay=1, multiplier=10, max_delay=60)
    assert policy.nominal_delay(99) == 60


def test_jitter_stays_within_bounds_and_spreads() -> None:
    policy = RetryPolicy(initial_delay=10, multiplier=1, max_delay=100, jitter=0.2)
    rng = random.Random(7)
    delays = [policy.delay(1, rng) for _ in range(2000)]
    assert min(delays) >= 8.0
    assert max(delays) <= 12.0
    assert max(delays) - min(delays) > 3.0  # it really is spread, not constant


def test_jitter_never_exceeds_max_delay() -> None:
    policy = RetryPolicy(initial_delay=10, max_delay=10, jitter=1.0)
    rng = random.Random(1)
    assert all(0 <= policy.delay(3, rng) <= 10 for _ in range(500))


def test_same_seed_same_schedule() -> None:
    policy = RetryPolicy()
    a = [policy.delay(k, random.Random(42)) for k in range(1, 5)]
    b = [policy.delay(k, random.Random(42)) for k in range(1, 5)]
    assert a == b


def test_exhaustion_and_tiers() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.tiers == 2
    assert not policy.exhausted(2)
    assert policy.exhausted(3)
    assert RetryPolicy(max_attempts=1).exhausted(1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"initial_delay": 5, "max_delay": 1},
        {"jitter": 1.5},
        {"multiplier": 0.5},
        {"bogus": 1},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(kwargs)


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="count from 1"):
        RetryPolicy().nominal_delay(0)


def test_retry_headers_round_trip_and_strip() -> None:
    h = RetryHeaders(
        attempt=3, due_ms=1_700_000_000_123, origin="demo.TicketOpened", last_error="timeout: slow"
    )
    encoded = h.to_headers()
    assert RetryHeaders.from_headers(dict(encoded)) == h
    original = [("ce_id", b"1"), ("ce_type", b"t")]
    assert strip_retry_headers(original + encoded) == original


def test_garbled_retry_headers_are_a_typed_error() -> None:
    with pytest.raises(RetryHeaderError):
        RetryHeaders.from_headers({"corps_attempt": b"two"})
    with pytest.raises(RetryHeaderError):
        RetryHeaders.from_headers({})


def test_retry_topic_names() -> None:
    assert retry_topic("{agent}.retry.{tier}", "triage", 2) == "triage.retry.2"
