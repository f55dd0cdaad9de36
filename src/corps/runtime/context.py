"""Per-event context for handlers, carried in a :mod:`contextvars` variable (never a module global).

The runtime binds an :class:`EventContext` around every handler call; a handler (or anything it calls,
including concurrently running tasks started inside it) reads it with :func:`current_context`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from corps.errors import CorpsError

__all__ = ["EventContext", "bind_context", "current_context"]


@dataclass(frozen=True, slots=True)
class EventContext:
    """What the runtime knows about the event being handled.

    Attributes:
        agent: Name of the agent handling the event.
        event_id: CloudEvents id of the event (``ce_id``).
        event_type: Event type (the Avro full name, ``ce_type``).
        workflow_id: Workflow (correlation) id; also the message key.
        tenant: Tenant the workflow belongs to.
        source: CloudEvents source of the event (who produced it).
        causation_id: Id of the event that caused this one, if any.
        step: Step name recorded on the event, if any.
        attempt: 1 for the first delivery, 2 for the first retry, and so on.
        time: When the event happened (``ce_time``).
        topic: Topic the record was read from (a retry topic for retries).
        partition: Partition of the record.
        offset: Offset of the record.
        traceparent: W3C traceparent of the handler's span (``""`` when tracing is off).
    """

    agent: str
    event_id: str
    event_type: str
    workflow_id: str
    tenant: str
    source: str
    causation_id: str | None
    step: str | None
    attempt: int
    time: datetime
    topic: str
    partition: int
    offset: int
    traceparent: str = ""


_CURRENT: ContextVar[EventContext | tuple[Any, ...] | None] = ContextVar("corps_event_context", default=None)
"""The current context; the runtime binds its *fields* (a tuple, cheap); the object is made when read."""


def _current() -> EventContext | None:
    """The current context or ``None``, building the :class:`EventContext` from its fields if needed."""
    value = _CURRENT.get()
    if value.__class__ is tuple:
        value = EventContext(*value)
        _CURRENT.set(value)  # the runtime's reset after the handler restores the outer value
    return value  # type: ignore[return-value]


class NoEventContextError(CorpsError):
    """:func:`current_context` was called outside a handler invocation."""


def current_context() -> EventContext:
    """Return the context of the event being handled.

    Raises:
        NoEventContextError: When called outside a handler invocation.
    """
    ctx = _current()
    if ctx is None:
        raise NoEventContextError("current_context() called outside an event handler")
    return ctx


@contextmanager
def bind_context(ctx: EventContext) -> Iterator[EventContext]:
    """Make ``ctx`` the current event context for the duration of the ``with`` block.

    Tests use it to call a handler directly with a context of their choosing.
    """
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
