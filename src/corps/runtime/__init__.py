"""The agent runtime: write agents as typed handlers; corps runs them as Kafka stream processors.

Write an agent with :func:`handler` / :func:`compensation` and :class:`Agent`; run a replica with
``corps agent run module:attr`` or, embedded, ``async with AgentWorker(agent, AgentSettings(...))``.
User code imports from here only; the engine that moves records is an internal detail behind a seam
(:mod:`corps.runtime.engine`) and no Kafka client library appears in this interface.
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
from corps.runtime.settings import AgentSettings, Routing
from corps.runtime.worker import AgentWorker

__all__ = [
    "Agent",
    "AgentSettings",
    "AgentWorker",
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
    "Routing",
    "bind_context",
    "compensation",
    "current_context",
    "handler",
]
