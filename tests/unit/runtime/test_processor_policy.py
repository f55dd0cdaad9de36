"""Retry policy precedence (settings override > decorator > default) and the retry tiers it implies."""

from __future__ import annotations

from corps.events import EventCodec, SchemaRegistry
from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime import Agent, RetryPolicy, handler
from corps.runtime.metrics import AgentMetrics
from corps.runtime.processor import Processor
from corps.runtime.settings import AgentSettings
from corps.runtime.tracing import Tracing
from corps.settings import RegistrySettings


@handler(retry=RetryPolicy(max_attempts=2), timeout=5)
async def decorated(event: TicketOpened) -> None: ...


@handler
async def plain(event: TicketTriaged) -> None: ...


def _processor(**overrides: object) -> Processor:
    agent = Agent(name="a", version="1", handlers=[decorated, plain])
    settings = AgentSettings.model_validate(
        {"kafka": {"bootstrap_servers": "k:9092"}, "registry": {"url": "http://r"}, **overrides}
    )
    codec = EventCodec(SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9")))
    return Processor(agent, settings, codec, tracing=Tracing("a"), metrics=AgentMetrics("a"))


def test_defaults_decorator_and_overrides() -> None:
    p = _processor(retry={"max_attempts": 4}, handler_timeout_s=9)
    d, q = p.agent.definitions[TicketOpened.event_type], p.agent.definitions[TicketTriaged.event_type]
    assert (p.policy(d).max_attempts, p.timeout(d)) == (2, 5)  # the decorator's
    assert (p.policy(q).max_attempts, p.timeout(q)) == (4, 9)  # the agent-wide default
    assert p.tiers == 3
    assert sorted(p.retry_topics) == ["a.retry.1", "a.retry.2", "a.retry.3"]

    p = _processor(handlers={TicketOpened.event_type: {"retry": {"max_attempts": 7}, "timeout_s": 1.5}})
    d = p.agent.definitions[TicketOpened.event_type]
    assert (p.policy(d).max_attempts, p.timeout(d)) == (7, 1.5)  # settings (the topology) win
    assert p.tiers == 6


def test_inputs_and_dead_letter_topic() -> None:
    p = _processor(routing={"inputs": {TicketOpened.event_type: "in.opened"}})
    assert p.input_topics == ["demo.support.TicketTriaged", "in.opened"]
    assert p.dead_letter_topic == "a.dlq"
