"""The runtime's public surface is pinned, and it never exposes (or needs) the engine's library."""

from __future__ import annotations

import corps.runtime


def test_runtime_exports_are_pinned() -> None:
    assert sorted(corps.runtime.__all__) == sorted(
        [
            "Agent",
            "DependencyUnavailableError",
            "ErrorCode",
            "EventContext",
            "HandlerError",
            "HandlerTimeoutError",
            "InvalidInputError",
            "NonRetryableError",
            "PolicyViolationError",
            "RetryPolicy",
            "RetryableError",
            "bind_context",
            "compensation",
            "current_context",
            "handler",
        ]
    )
    for name in corps.runtime.__all__:
        assert hasattr(corps.runtime, name), name
