"""Standard error codes for agent handlers, each carrying its retry semantics.

A handler signals failure by raising. The runtime classifies what it raised with :func:`classify`:
a :class:`HandlerError` says itself whether it may be retried (and, optionally, after how long); any
other exception counts as :attr:`ErrorCode.UNKNOWN`, retried like a transient failure, because a
crash in user code is more often a flaky dependency than a permanent fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from corps.errors import CorpsError

__all__ = [
    "DependencyUnavailableError",
    "ErrorCode",
    "Failure",
    "HandlerError",
    "HandlerTimeoutError",
    "InvalidInputError",
    "NonRetryableError",
    "PolicyViolationError",
    "RetryableError",
    "classify",
]


class ErrorCode(StrEnum):
    """The standard failure codes: the symbols of the ``corps.lifecycle.ErrorCode`` Avro enum.

    The value travels in StepFailed / CompensationFailed events. ``UNKNOWN`` is what an unexpected
    exception (a bug, an unclassified library error) becomes.
    """

    RETRYABLE = "RETRYABLE"
    NON_RETRYABLE = "NON_RETRYABLE"
    INVALID_INPUT = "INVALID_INPUT"
    DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
    TIMEOUT = "TIMEOUT"
    POLICY = "POLICY"
    UNKNOWN = "UNKNOWN"


class HandlerError(CorpsError):
    """Base of the errors a handler raises on purpose.

    Args:
        message: What went wrong, for people (it ends up in StepFailed and in logs).
        retry_after: Overrides the backoff schedule for the next attempt, in seconds (retryable only).

    Attributes:
        code: The standard code of this failure.
        retriable: Whether the runtime schedules another attempt.
    """

    code: ErrorCode = ErrorCode.NON_RETRYABLE
    retriable = False

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or self.code.value)
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after}")
        self.retry_after = retry_after


class RetryableError(HandlerError):
    """A transient failure: try again after a backoff."""

    code = ErrorCode.RETRYABLE
    retriable = True


class NonRetryableError(HandlerError):
    """A permanent failure: another attempt would fail the same way; fail the step now."""

    code = ErrorCode.NON_RETRYABLE


class InvalidInputError(NonRetryableError):
    """The event decoded but its content cannot be handled (a business-level validation failure)."""

    code = ErrorCode.INVALID_INPUT


class PolicyViolationError(NonRetryableError):
    """The handler refused the work because a policy forbids it."""

    code = ErrorCode.POLICY


class DependencyUnavailableError(RetryableError):
    """A service the handler needs (an LLM API, a database) cannot be reached right now."""

    code = ErrorCode.DEPENDENCY_UNAVAILABLE


class HandlerTimeoutError(RetryableError):
    """The handler did not finish within its time budget (raised by the runtime, or by the handler)."""

    code = ErrorCode.TIMEOUT


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified handler failure.

    Attributes:
        code: The standard error code.
        retriable: Whether another attempt may succeed.
        message: ``ExceptionType: message`` of what was raised, truncated to 1,000 characters.
        retry_after: A delay the handler asked for, overriding the backoff schedule, or ``None``.
    """

    code: ErrorCode
    retriable: bool
    message: str
    retry_after: float | None = None


_MAX_MESSAGE = 1000


def classify(exc: BaseException) -> Failure:
    """Classify what a handler raised into a :class:`Failure`.

    Args:
        exc: The exception the handler raised.

    Returns:
        The failure: the error's own code and retry semantics for a :class:`HandlerError`, otherwise
        :attr:`ErrorCode.UNKNOWN`, retriable.
    """
    message = f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE]
    if isinstance(exc, HandlerError):
        return Failure(exc.code, exc.retriable, message, exc.retry_after)
    if isinstance(exc, TimeoutError):
        return Failure(ErrorCode.TIMEOUT, True, message)
    return Failure(ErrorCode.UNKNOWN, True, message)
