"""Decode consumed batches and fold them into timelines, one builder per partition index.

All topics of a topology have the same partition count and the workflow id is the key, so one
workflow's records share one partition index on every topic. :class:`Fold` keeps one
:class:`~corps.replay.builder.TimelineBuilder` per partition index and merges them in index order at
the end: whether one process folded every partition or several processes folded a share each
(:mod:`corps.replay.parallel`), the same records give the same timelines.

A fold decodes only the payloads it needs: with ``keep_data`` off and no verification or shadow run,
the gate's decision records and lifecycle events (what statuses, decisions, approvals and
compensations are read from); every other record has its headers and its frame (magic byte, a schema
id known to the registry and matching ``ce_type``) checked, its body left unread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corps.events import EventCodec
from corps.replay.builder import TimelineBuilder
from corps.replay.decode import RecordDecoder
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics, Role
from corps.topology import Topology

if TYPE_CHECKING:
    from corps.replay.session import ReplayOptions

__all__ = ["Fold"]

_LIFECYCLE = "corps.lifecycle."


class Fold:
    """The decode + fold state of one replay in one process.

    Args:
        topology: The topology replayed.
        topics: Its topics with their roles.
        codec: Supplies writer schemas.
        options: The replay's options (readers, keep_data, verify).
        sink: Called with every record (a shadow run keeps them); needs every payload.
    """

    def __init__(
        self,
        topology: Topology,
        topics: ReplayTopics,
        codec: EventCodec,
        options: ReplayOptions,
        *,
        sink: Callable[[LogRecord], None] | None = None,
    ) -> None:
        self.topology = topology
        self.topics = topics
        self.options = options
        self.sink = sink
        lazy = not options.keep_data and not options.verify and sink is None
        decisions = frozenset(topics.of_role(Role.DECISIONS))

        def needed(record: LogRecord) -> bool:
            return record.topic in decisions or (record.event_type or "").startswith(_LIFECYCLE)

        self._decode = RecordDecoder(
            codec, readers=options.readers, bodies=needed if lazy else None
        ).from_message
        self._state = frozenset(topics.of_role(Role.STATE))
        self.builders: dict[int, TimelineBuilder] = {}
        self.by_workflow: dict[str, list[LogRecord]] = defaultdict(list)
        self.count = 0
        self.unreadable = 0

    def feed(self, batches: Iterable[Sequence[Any]]) -> None:
        """Decode and fold batches of ``confluent_kafka.Message`` objects (no errors among them)."""
        decode, builders, state, sink = self._decode, self.builders, self._state, self.sink
        by_workflow = self.by_workflow if self.options.verify else None
        for batch in batches:
            self.count += len(batch)
            for message in batch:
                record = decode(message)
                if record.problem is not None and record.topic not in state:
                    self.unreadable += 1
                builder = builders.get(record.partition)
                if builder is None:
                    builder = builders[record.partition] = self._builder()
                builder.add(record)
                if sink is not None:
                    sink(record)
                if by_workflow is not None:
                    by_workflow[record.workflow].append(record)

    def _builder(self) -> TimelineBuilder:
        return TimelineBuilder(self.topology, self.topics, keep_data=self.options.keep_data)

    def states(self) -> dict[int, dict[str, Any]]:
        """Every partition index's fold, picklable (see :meth:`TimelineBuilder.state`)."""
        return {partition: builder.state() for partition, builder in self.builders.items()}

    def merged(self, others: Mapping[int, Mapping[str, Any]] | None = None) -> TimelineBuilder:
        """One builder holding every partition index's fold (and ``others``'), merged in index order."""
        parts: dict[int, TimelineBuilder | Mapping[str, Any]] = dict(self.builders)
        parts.update(others or {})
        merged = self._builder()
        for partition in sorted(parts):
            part = parts[partition]
            if isinstance(part, TimelineBuilder):
                merged.absorb(part)
            else:
                merged.restore(part)
        return merged
