"""The counters of stateful policies (throttle, budget) as one serialisable, immutable value.

Each counter lives under a key ``<policy id>|<scope>=<value>|...`` (``budget-refunds|tenant=acme``).
A throttle keeps one integer, its *theoretical arrival time* in nanoseconds (GCRA); a budget keeps
the start of its current window (milliseconds) and the sum spent in it. All arithmetic on times is
integer, so a state rebuilt from its JSON behaves identically. The gate keeps the state in a
changelog: a decision lists the counters it changed (:attr:`corps.policy.Decision.charges`), which is
exactly what to write there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from corps.errors import ConfigurationError

__all__ = ["Counter", "PolicyState", "RateCounter", "SpendCounter", "counter_from_json"]


@dataclass(frozen=True, slots=True)
class RateCounter:
    """A throttle's state: the theoretical arrival time of the next event, in epoch nanoseconds.

    Attributes:
        tat_ns: When the bucket will be empty again if no further event is admitted.
    """

    tat_ns: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": "rate", "tat_ns": self.tat_ns}


@dataclass(frozen=True, slots=True)
class SpendCounter:
    """A budget's state: the current window and what has been spent in it.

    Attributes:
        window_start_ms: Epoch milliseconds at which the window began.
        spent: Sum of the admitted events' amounts in that window.
    """

    window_start_ms: int
    spent: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": "spend", "window_start_ms": self.window_start_ms, "spent": self.spent}


Counter = RateCounter | SpendCounter
"""One stateful policy's counter for one key."""


def counter_from_json(data: Any) -> Counter:
    """Rebuild a counter from :meth:`RateCounter.to_json` / :meth:`SpendCounter.to_json` output.

    Raises:
        ConfigurationError: The data is not a counter.
    """
    if isinstance(data, dict):
        if data.get("kind") == "rate" and isinstance(data.get("tat_ns"), int):
            return RateCounter(tat_ns=data["tat_ns"])
        spent = data.get("spent")
        start = data.get("window_start_ms")
        if data.get("kind") == "spend" and isinstance(start, int) and isinstance(spent, int | float):
            return SpendCounter(window_start_ms=start, spent=spent)
    raise ConfigurationError(f"not a policy counter: {data!r}")


class PolicyState:
    """Every counter, by key; immutable (``with_updates`` returns a new state).

    Args:
        counters: Counters by key.
    """

    __slots__ = ("_counters",)

    def __init__(self, counters: Mapping[str, Counter] | None = None) -> None:
        self._counters: Mapping[str, Counter] = MappingProxyType(dict(counters or {}))

    @property
    def counters(self) -> Mapping[str, Counter]:
        """Read-only view of the counters."""
        return self._counters

    def get(self, key: str) -> Counter | None:
        """The counter at ``key``, if any."""
        return self._counters.get(key)

    def with_updates(self, updates: Mapping[str, Counter]) -> PolicyState:
        """A new state with ``updates`` written over this one (self when there are none)."""
        if not updates:
            return self
        merged = dict(self._counters)
        merged.update(updates)
        return PolicyState(merged)

    def pruned(self, now_ns: int, windows: Mapping[str, int] | None = None) -> PolicyState:
        """Drop counters that no longer hold anything: throttles whose bucket is empty at ``now_ns``.

        Budgets are dropped when ``windows`` (policy id -> window length in ms) says their window is
        over. Pruning changes no decision; it only keeps the state small.
        """
        windows = windows or {}
        now_ms = now_ns // 1_000_000
        kept: dict[str, Counter] = {}
        for key, counter in self._counters.items():
            if isinstance(counter, RateCounter):
                if counter.tat_ns > now_ns:
                    kept[key] = counter
            else:
                length = windows.get(key.partition("|")[0])
                if length is None or counter.window_start_ms + length > now_ms:
                    kept[key] = counter
        return PolicyState(kept)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._counters))

    def __len__(self) -> int:
        return len(self._counters)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyState) and dict(self._counters) == dict(other._counters)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._counters.items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        return f"PolicyState({dict(self._counters)!r})"

    def to_json(self) -> str:
        """Canonical JSON of the whole state (sorted keys)."""
        body = {key: counter.to_json() for key, counter in self._counters.items()}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PolicyState:
        """Rebuild a state from :meth:`to_json` output.

        Raises:
            ConfigurationError: The text is not a serialised policy state.
        """
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"policy state is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ConfigurationError("policy state is a JSON object of counters")
        return cls({str(key): counter_from_json(value) for key, value in body.items()})
