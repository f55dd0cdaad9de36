"""What part of the log a replay read, so verification can tell "missing" from "not read"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from corps.replay.reader import ReplayRange, Span

__all__ = ["Coverage"]

_END_SLACK_MS = 5000


@dataclass(frozen=True)
class Coverage:
    """The topics and offsets read.

    Attributes:
        topics: The topics read.
        starts: ``(topic, partition)`` -> the first offset read.
        to_time_ms: The range's end time, if it has one (records just before it may miss partners).
    """

    topics: frozenset[str]
    starts: Mapping[tuple[str, int], int] = field(default_factory=dict)
    to_time_ms: int | None = None

    @classmethod
    def of(cls, spans: Iterable[Span], span: ReplayRange | None = None) -> Coverage:
        """The coverage of a planned read."""
        spans = list(spans)
        end = span.to_time if span is not None else None
        return cls(
            topics=frozenset(s.topic for s in spans),
            starts={(s.topic, s.partition): s.start for s in spans},
            to_time_ms=int(end.timestamp() * 1000) if end is not None else None,
        )

    @classmethod
    def everything(cls, topics: Iterable[str]) -> Coverage:
        """Coverage of whole topics (records handed over in memory, e.g. by tests)."""
        return cls(topics=frozenset(topics))

    def read(self, topic: str) -> bool:
        """Whether ``topic`` was read at all."""
        return topic in self.topics

    def from_start(self, topic: str, partition: int) -> bool:
        """Whether ``topic[partition]`` was read from offset 0 (nothing before the range)."""
        return topic in self.topics and self.starts.get((topic, partition), 0) == 0

    def near_end(self, timestamp_ms: int | None) -> bool:
        """Whether a record written at ``timestamp_ms`` is close enough to the end time to lose a partner."""
        if self.to_time_ms is None or timestamp_ms is None:
            return False
        return timestamp_ms >= self.to_time_ms - _END_SLACK_MS
