"""Retry schedule and the delayed retry topics that keep a partition flowing while an event waits.

A retryable failure of attempt ``k`` re-publishes the *original record* (key, value and CloudEvents
headers untouched) to the agent's retry topic of tier ``k`` with a due time in its headers. Each tier
holds records with the same nominal delay, so due times in one tier are (up to jitter) in order: the
runtime reads a tier partition, and when the head record is not due yet it pauses that partition
until it is. The input partitions keep flowing meanwhile; only the retried event waits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from corps.errors import CorpsError

__all__ = [
    "RetryHeaders",
    "RetryPolicy",
    "retry_topic",
]

H_ATTEMPT = "corps_attempt"
H_DUE = "corps_retry_due_ms"
H_ORIGIN = "corps_retry_origin"
H_LAST_ERROR = "corps_last_error"
RETRY_HEADER_NAMES = frozenset({H_ATTEMPT, H_DUE, H_ORIGIN, H_LAST_ERROR})


class RetryPolicy(BaseModel):
    """Exponential backoff with proportional jitter.

    The delay before attempt ``k + 1`` (after attempt ``k`` failed) is
    ``min(max_delay, initial_delay * multiplier ** (k - 1))``, scaled by a uniform factor in
    ``[1 - jitter, 1 + jitter]`` and capped at ``max_delay``.

    Attributes:
        max_attempts: Total attempts including the first; 1 disables retries.
        initial_delay: Delay before the first retry, seconds.
        multiplier: Growth factor per attempt.
        max_delay: Upper bound of any delay, seconds.
        jitter: Relative spread of the random factor, 0 (none) to 1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=100)
    initial_delay: float = Field(default=1.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    max_delay: float = Field(default=300.0, ge=0)
    jitter: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryPolicy:
        if self.max_delay < self.initial_delay:
            raise ValueError("max_delay must be >= initial_delay")
        return self

    @property
    def tiers(self) -> int:
        """Number of retry topics this policy needs (one per retry)."""
        return self.max_attempts - 1

    def nominal_delay(self, failed_attempt: int) -> float:
        """Return the un-jittered delay after ``failed_attempt`` (1-based) failed, in seconds."""
        if failed_attempt < 1:
            raise ValueError(f"attempts count from 1, got {failed_attempt}")
        exponent = min(failed_attempt - 1, 64)  # beyond this the cap applies anyway
        return min(self.max_delay, self.initial_delay * self.multiplier**exponent)

    def delay(self, failed_attempt: int, rng: random.Random) -> float:
        """Return the jittered delay after ``failed_attempt`` failed, in seconds.

        Args:
            failed_attempt: The attempt that just failed, 1-based.
            rng: The source of randomness (injected so schedules are reproducible in tests).
        """
        base = self.nominal_delay(failed_attempt)
        factor = 1.0 + self.jitter * rng.uniform(-1.0, 1.0)
        return max(0.0, min(self.max_delay, base * factor))

    def exhausted(self, failed_attempt: int) -> bool:
        """Return True when no attempt is left after ``failed_attempt`` failed."""
        return failed_attempt >= self.max_attempts


def retry_topic(template: str, agent: str, tier: int) -> str:
    """Name of the retry topic for ``tier`` (the attempt that failed) of ``agent``."""
    return template.format(agent=agent, tier=tier)


class RetryHeaderError(CorpsError):
    """A record on a retry topic lacks or garbles the corps retry headers."""


@dataclass(frozen=True, slots=True)
class RetryHeaders:
    """The corps headers a record carries on a retry topic.

    Attributes:
        attempt: The attempt number this delivery will be (2 for the first retry).
        due_ms: Epoch milliseconds before which it must not be handled.
        origin: The input topic the record first came from.
        last_error: ``code: message`` of the failure that scheduled this retry.
    """

    attempt: int
    due_ms: int
    origin: str
    last_error: str

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Encode as Kafka headers."""
        return [
            (H_ATTEMPT, str(self.attempt).encode()),
            (H_DUE, str(self.due_ms).encode()),
            (H_ORIGIN, self.origin.encode()),
            (H_LAST_ERROR, self.last_error.encode()[:1000]),
        ]

    @classmethod
    def from_headers(cls, headers: dict[str, bytes]) -> RetryHeaders:
        """Decode from a header mapping.

        Raises:
            RetryHeaderError: When a header is missing or not parseable.
        """
        try:
            return cls(
                attempt=int(headers[H_ATTEMPT]),
                due_ms=int(headers[H_DUE]),
                origin=headers[H_ORIGIN].decode(),
                last_error=headers.get(H_LAST_ERROR, b"").decode(errors="replace"),
            )
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise RetryHeaderError(f"bad retry headers: {exc!r}") from exc


def strip_retry_headers(
    headers: Sequence[tuple[str, bytes | None]],
) -> list[tuple[str, bytes | None]]:
    """Return ``headers`` without the corps retry headers (so they never accumulate)."""
    return [(k, v) for k, v in headers if k not in RETRY_HEADER_NAMES]
