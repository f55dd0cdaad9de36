"""The SDK surface: ``@handler`` / ``@compensation`` decorators and the :class:`Agent` definition.

Decorators validate the function, attach a frozen :class:`HandlerDefinition` to it and return it
*unchanged*, so a unit test calls a handler like any other function. An :class:`Agent` lists its
handlers explicitly; nothing is discovered by scanning imports, and nothing here knows about the
engine that will run it.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from corps.errors import ConfigurationError
from corps.events import EventModel
from corps.runtime.retry import RetryPolicy

__all__ = ["Agent", "HandlerDefinition", "compensation", "definition_of", "handler"]

F = TypeVar("F", bound=Callable[..., Any])
HandlerKind = Literal["handler", "compensation"]
_ATTR = "__corps_handler__"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def _is_event_model(tp: object) -> bool:
    return (
        isinstance(tp, type)
        and issubclass(tp, EventModel)
        and isinstance(getattr(tp, "event_type", None), str)
    )


@dataclass(frozen=True, slots=True)
class HandlerDefinition:
    """What a decorator attached to a handler function.

    Attributes:
        fn: The handler function itself.
        name: Its qualified name, for logs.
        kind: ``"handler"`` for the happy path, ``"compensation"`` for a compensation handler.
        event_model: The event model class of the parameter.
        is_async: Whether ``fn`` is a coroutine function.
        returns: Event model classes found in the return annotation.
        timeout: Time budget of one call in seconds (``None``: the agent's default).
        retry: Retry policy for this handler (``None``: the agent's default).
    """

    fn: Callable[..., Any]
    name: str
    kind: HandlerKind
    event_model: type[EventModel]
    is_async: bool
    returns: tuple[type[EventModel], ...]
    timeout: float | None
    retry: RetryPolicy | None

    @property
    def event_type(self) -> str:
        """The event type this handler consumes."""
        return self.event_model.event_type

    async def invoke(self, event: EventModel) -> object:
        """Call the handler with ``event`` and return what it returned (awaiting it when async)."""
        result = self.fn(event)
        if self.is_async:
            return await typing.cast(Awaitable[object], result)
        return result


def _models_in(annotation: object) -> list[type[EventModel]]:
    if _is_event_model(annotation):
        return [typing.cast(type[EventModel], annotation)]
    found: list[type[EventModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _define(
    fn: Callable[..., Any], kind: HandlerKind, timeout: float | None, retry: RetryPolicy | None
) -> None:
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    if not callable(fn) or isinstance(fn, type):
        raise ConfigurationError(f"@{kind} applies to functions, not {fn!r}")
    if timeout is not None and timeout <= 0:
        raise ConfigurationError(f"{where}: timeout must be > 0, got {timeout}")
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) != 1 or len(positional) != 1:
        raise ConfigurationError(f"{where}: a {kind} takes exactly one parameter, the event")
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # unresolvable forward references and the like
        raise ConfigurationError(f"{where}: cannot resolve type annotations: {exc}") from exc
    model = hints.get(positional[0].name)
    if not _is_event_model(model):
        raise ConfigurationError(
            f"{where}: the parameter must be annotated with an event model class, got {model!r}"
        )
    returns = tuple(dict.fromkeys(_models_in(hints.get("return"))))
    definition = HandlerDefinition(
        fn=fn,
        name=where,
        kind=kind,
        event_model=typing.cast(type[EventModel], model),
        is_async=inspect.iscoroutinefunction(fn),
        returns=returns,
        timeout=timeout,
        retry=retry,
    )
    setattr(fn, _ATTR, definition)


def definition_of(fn: Callable[..., Any]) -> HandlerDefinition:
    """Return the definition a decorator attached to ``fn``.

    Raises:
        ConfigurationError: When ``fn`` was not decorated with ``@handler`` or ``@compensation``.
    """
    found = getattr(fn, _ATTR, None)
    if not isinstance(found, HandlerDefinition):
        raise ConfigurationError(f"{fn!r} is not decorated with @handler or @compensation")
    return found


@overload
def handler(fn: F, /) -> F: ...
@overload
def handler(*, timeout: float | None = None, retry: RetryPolicy | None = None) -> Callable[[F], F]: ...
def handler(
    fn: F | None = None, /, *, timeout: float | None = None, retry: RetryPolicy | None = None
) -> F | Callable[[F], F]:
    """Mark a function as the handler of the event type its parameter is annotated with.

    The handler returns the events to emit: ``None``, one event model, or an iterable of them; or it
    raises (see :mod:`corps.runtime.errors` for the codes and their retry semantics). The function is
    returned unchanged.

    Args:
        fn: The function (when used as ``@handler`` without arguments).
        timeout: Time budget of one call in seconds; default: the agent's setting.
        retry: Retry policy of this handler; default: the agent's setting.
    """

    def wrap(f: F) -> F:
        _define(f, "handler", timeout, retry)
        return f

    return wrap(fn) if fn is not None else wrap


@overload
def compensation(fn: F, /) -> F: ...
@overload
def compensation(*, timeout: float | None = None, retry: RetryPolicy | None = None) -> Callable[[F], F]: ...
def compensation(
    fn: F | None = None, /, *, timeout: float | None = None, retry: RetryPolicy | None = None
) -> F | Callable[[F], F]:
    """Mark a function as the agent's compensation handler (it answers a step's compensation request).

    The parameter is annotated with the compensation request event model; the function returns the
    events that undo the step (for instance ``RefundReversed``). The function is returned unchanged.
    """

    def wrap(f: F) -> F:
        _define(f, "compensation", timeout, retry)
        return f

    return wrap(fn) if fn is not None else wrap


@dataclass(frozen=True)
class Agent:
    """An agent: a named, versioned set of handlers that runs as one consumer group.

    Args:
        name: Lower-case name, ``[a-z][a-z0-9-]*``; also the consumer group and the CloudEvents source.
        version: The agent's version (free text, e.g. ``1.2.0``).
        handlers: Functions decorated with ``@handler``, one per consumed event type.
        compensations: Functions decorated with ``@compensation``.
        produces: Event model classes the agent may emit (merged with the handlers' return annotations).
        capabilities: What the agent can do, announced in the agent registry.
        description: One line for ``corps agents``.
    """

    name: str
    version: str
    handlers: Sequence[Callable[..., Any]]
    compensations: Sequence[Callable[..., Any]] = ()
    produces: Sequence[type[EventModel]] = ()
    capabilities: Sequence[str] = ()
    description: str = ""
    definitions: dict[str, HandlerDefinition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigurationError(f"agent name {self.name!r} must match {_NAME.pattern}")
        if not self.version.strip():
            raise ConfigurationError(f"agent {self.name!r}: version must not be empty")
        listed = [(f, "handler") for f in self.handlers] + [(f, "compensation") for f in self.compensations]
        if not listed:
            raise ConfigurationError(f"agent {self.name!r} has no handlers")
        definitions: dict[str, HandlerDefinition] = {}
        for fn, want in listed:
            d = definition_of(fn)
            if d.kind != want:
                raise ConfigurationError(f"agent {self.name!r}: {d.name} is a {d.kind}, listed as a {want}")
            if d.event_type in definitions:
                other = definitions[d.event_type].name
                raise ConfigurationError(
                    f"agent {self.name!r}: {d.name} and {other} both consume {d.event_type}"
                )
            definitions[d.event_type] = d
        produced = list(self.produces)
        for model in produced:
            if not _is_event_model(model):
                raise ConfigurationError(f"agent {self.name!r}: produces {model!r}, not an event model")
        for d in definitions.values():
            produced.extend(d.returns)
        object.__setattr__(self, "handlers", tuple(self.handlers))
        object.__setattr__(self, "compensations", tuple(self.compensations))
        object.__setattr__(self, "capabilities", tuple(self.capabilities))
        object.__setattr__(self, "produces", tuple(dict.fromkeys(produced)))
        object.__setattr__(self, "definitions", definitions)

    @property
    def consumes(self) -> tuple[type[EventModel], ...]:
        """Event model classes the agent consumes."""
        return tuple(d.event_model for d in self.definitions.values())

    @property
    def produced_types(self) -> frozenset[str]:
        """Event types the agent may emit."""
        return frozenset(m.event_type for m in self.produces)
