"""The SDK: decorators register and return the function unchanged; Agent validates explicitly."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest
from pydantic import BaseModel

from corps.errors import ConfigurationError
from corps.events import EventModel
from corps.runtime import Agent, RetryPolicy, compensation, handler
from corps.runtime.definition import definition_of


class Opened(EventModel):
    event_type: ClassVar[str] = "test.Opened"
    ticket: str


class Triaged(EventModel):
    event_type: ClassVar[str] = "test.Triaged"
    ticket: str
    queue: str


class Undo(EventModel):
    event_type: ClassVar[str] = "test.Undo"
    ticket: str


class NotAnEvent(BaseModel):
    x: int


async def triage(event: Opened) -> Triaged:
    return Triaged(ticket=event.ticket, queue="billing")


def test_decorator_returns_the_function_unchanged() -> None:
    decorated = handler(triage)
    assert decorated is triage
    assert asyncio.run(decorated(Opened(ticket="t1"))) == Triaged(ticket="t1", queue="billing")


def test_definition_records_types_and_options() -> None:
    policy = RetryPolicy(max_attempts=2)

    @handler(timeout=3.0, retry=policy)
    def sync_many(event: Opened) -> list[Triaged | Undo] | None:
        return None

    d = definition_of(sync_many)
    assert d.event_type == "test.Opened"
    assert d.kind == "handler"
    assert not d.is_async
    assert d.returns == (Triaged, Undo)
    assert (d.timeout, d.retry) == (3.0, policy)
    assert asyncio.run(d.invoke(Opened(ticket="x"))) is None


@pytest.mark.parametrize(
    "fn",
    [
        lambda: None,
        lambda a, b: None,
    ],
)
def test_wrong_arity_is_refused(fn: object) -> None:
    with pytest.raises(ConfigurationError, match="exactly one parameter"):
        handler(fn)  # type: ignore[call-overload]


def test_parameter_must_be_an_event_model() -> None:
    def plain(event: NotAnEvent) -> None: ...

    def untyped(event):  # type: ignore[no-untyped-def]
        ...

    for fn in (plain, untyped):
        with pytest.raises(ConfigurationError, match="annotated with an event model"):
            handler(fn)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        handler(timeout=0)(triage)


def test_agent_collects_consumes_and_produces() -> None:
    @compensation
    async def undo(event: Undo) -> None: ...

    agent = Agent(
        name="triage", version="1.0", handlers=[handler(triage)], compensations=[undo], capabilities=["x"]
    )
    assert agent.consumes == (Opened, Undo)
    assert agent.produced_types == {"test.Triaged"}
    assert agent.definitions["test.Undo"].kind == "compensation"
    assert agent.capabilities == ("x",)


def test_undecorated_function_is_refused() -> None:
    async def bare(event: Opened) -> None: ...

    with pytest.raises(ConfigurationError, match="not decorated"):
        Agent(name="a", version="1", handlers=[bare])


def test_two_handlers_for_one_event_type_are_refused() -> None:
    @handler
    async def other(event: Opened) -> None: ...

    with pytest.raises(ConfigurationError, match=r"both consume test\.Opened"):
        Agent(name="a", version="1", handlers=[handler(triage), other])


def test_compensation_listed_as_handler_is_refused() -> None:
    @compensation
    async def undo(event: Undo) -> None: ...

    with pytest.raises(ConfigurationError, match="is a compensation, listed as a handler"):
        Agent(name="a", version="1", handlers=[undo])


@pytest.mark.parametrize("name", ["", "Upper", "has space", "9lives", "x" * 70])
def test_bad_agent_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="agent name"):
        Agent(name=name, version="1", handlers=[handler(triage)])


def test_agent_needs_handlers_and_a_version() -> None:
    with pytest.raises(ConfigurationError, match="no handlers"):
        Agent(name="a", version="1", handlers=[])
    with pytest.raises(ConfigurationError, match="version"):
        Agent(name="a", version=" ", handlers=[handler(triage)])


def test_produces_must_be_event_models() -> None:
    with pytest.raises(ConfigurationError, match="not an event model"):
        Agent(name="a", version="1", handlers=[handler(triage)], produces=[NotAnEvent])
