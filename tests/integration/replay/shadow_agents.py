"""Agents for the shadow-run tests: step s2 of the test topology (B -> C), in two versions."""

from __future__ import annotations

from tests.unit.replay.replay_log import model

from corps.replay import tool_call
from corps.runtime import Agent, handler

B = model("test.rp.B")
C = model("test.rp.C")


def _suffix(text: str) -> str:
    return text.replace(":B", ":C")


def on_b_v1(event: B) -> C:  # type: ignore[valid-type]
    return C(n=tool_call("text.suffix", _suffix, event.n))  # type: ignore[call-arg, attr-defined, no-any-return]


def on_b_v2(event: B) -> C:  # type: ignore[valid-type]
    return C(n=tool_call("text.suffix", _suffix, event.n).upper())  # type: ignore[call-arg, attr-defined, no-any-return]


agent_v1 = Agent(name="a2", version="1.0", handlers=[handler(on_b_v1)])
agent_v2 = Agent(name="a2", version="2.0", handlers=[handler(on_b_v2)])
