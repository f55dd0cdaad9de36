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

_BUCKETS = 64
_MASK = _BUCKETS - 1


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

    The counters sit in 64 buckets (by key hash) that states share: an update copies only the buckets
    it touches, so deciding one event costs the same with ten counters or a hundred thousand.

    Args:
        counters: Counters by key.
    """

    __slots__ = ("_buckets", "_size")

    def __init__(self, counters: Mapping[str, Counter] | None = None) -> None:
        buckets: list[dict[str, Counter]] = [{} for _ in range(_BUCKETS)]
        for key, counter in (counters or {}).items():
            buckets[hash(key) & _MASK][key] = counter
        self._buckets: tuple[dict[str, Counter], ...] = tuple(buckets)
        self._size = sum(len(b) for b in buckets)

    @classmethod
    def _of(cls, buckets: tuple[dict[str, Counter], ...], size: int) -> PolicyState:
        state = cls.__new__(cls)
        state._buckets = buckets
        state._size = size
        return state

    @property
    def counters(self) -> Mapping[str, Counter]:
        """Read-only view of every counter (built on each call: for inspection, not the hot path)."""
        merged: dict[str, Counter] = {}
        for bucket in self._buckets:
            merged.update(bucket)
        return MappingProxyType(merged)

    def get(self, key: str) -> Counter | None:
        """The counter at ``key``, if any."""
        return self._buckets[hash(key) & _MASK].get(key)

    def with_updates(self, updates: Mapping[str, Counter]) -> PolicyState:
        """A new state with ``updates`` written over this one (self when there are none)."""
        if not updates:
            return self
        buckets = list(self._buckets)
        copied: set[int] = set()
        size = self._size
        for key, counter in updates.items():
            index = hash(key) & _MASK
            if index not in copied:
                buckets[index] = dict(buckets[index])
                copied.add(index)
            size += key not in buckets[index]
            buckets[index][key] = counter
        return PolicyState._of(tuple(buckets), size)

    def pruned(self, now_ns: int, windows: Mapping[str, int] | None = None) -> PolicyState:
        """Drop counters that no longer hold anything: throttles whose bucket is empty at ``now_ns``.

        Budgets are dropped when ``windows`` (policy id -> window length in ms) says their window is
        over. Pruning changes no decision; it only keeps the state small.
        """
        windows = windows or {}
        now_ms = now_ns // 1_000_000
        kept: dict[str, Counter] = {}
        for key, counter in self.counters.items():
            if isinstance(counter, RateCounter):
                if counter.tat_ns > now_ns:
                    kept[key] = counter
            else:
                length = windows.get(key.partition("|")[0])
                if length is None or counter.window_start_ms + length > now_ms:
                    kept[key] = counter
        return PolicyState(kept)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.counters))

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyState) and dict(self.counters) == dict(other.counters)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.counters.items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        return f"PolicyState({dict(sorted(self.counters.items()))!r})"

    def to_json(self) -> str:
        """Canonical JSON of the whole state (sorted keys)."""
        body = {key: counter.to_json() for key, counter in self.counters.items()}
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
