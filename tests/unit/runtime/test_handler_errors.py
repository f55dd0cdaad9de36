"""Error codes carry their retry semantics; classify() turns anything a handler raises into a Failure."""

from __future__ import annotations

import pytest

from corps.errors import CorpsError
from corps.runtime import (
    DependencyUnavailableError,
    ErrorCode,
    HandlerTimeoutError,
    InvalidInputError,
    NonRetryableError,
    PolicyViolationError,
    RetryableError,
)
from corps.runtime.errors import classify


@pytest.mark.parametrize(
    ("exc", "code", "retriable"),
    [
        (RetryableError("flaky"), ErrorCode.RETRYABLE, True),
        (DependencyUnavailableError("llm down"), ErrorCode.DEPENDENCY_UNAVAILABLE, True),
        (HandlerTimeoutError("slow"), ErrorCode.TIMEOUT, True),
        (NonRetryableError("no"), ErrorCode.NON_RETRYABLE, False),
        (InvalidInputError("bad amount"), ErrorCode.INVALID_INPUT, False),
        (PolicyViolationError("forbidden"), ErrorCode.POLICY, False),
        (TimeoutError("asyncio"), ErrorCode.TIMEOUT, True),
        (ZeroDivisionError("bug"), ErrorCode.UNKNOWN, True),
    ],
)
def test_classify_gives_code_and_retry_semantics(
    exc: BaseException, code: ErrorCode, retriable: bool
) -> None:
    failure = classify(exc)
    assert failure.code is code
    assert failure.retriable is retriable
    assert failure.message.startswith(type(exc).__name__ + ": ")


def test_handler_errors_are_corps_errors() -> None:
    assert isinstance(InvalidInputError("x"), CorpsError)
    assert isinstance(DependencyUnavailableError("x"), RetryableError)


def test_retry_after_overrides_and_is_validated() -> None:
    assert classify(RetryableError("later", retry_after=7.5)).retry_after == 7.5
    assert classify(RetryableError("now")).retry_after is None
    with pytest.raises(ValueError, match="retry_after"):
        RetryableError("x", retry_after=-1)


def test_message_is_truncated() -> None:
    assert len(classify(RetryableError("x" * 5000)).message) == 1000


def test_default_message_is_the_code() -> None:
    assert str(PolicyViolationError()) == "POLICY"
