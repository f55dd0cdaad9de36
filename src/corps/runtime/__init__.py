"""The agent runtime: write agents as typed handlers; corps runs them as Kafka stream processors.

User code imports from here only; the engine that runs agents is an internal detail behind a seam.
"""

from corps.runtime.context import EventContext, bind_context, current_context
from corps.runtime.definition import Agent, compensation, handler
from corps.runtime.errors import (
    DependencyUnavailableError,
    ErrorCode,
    HandlerError,
    HandlerTimeoutError,
    InvalidInputError,
    NonRetryableError,
    PolicyViolationError,
    RetryableError,
)
from corps.runtime.retry import RetryPolicy

__all__ = [
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
