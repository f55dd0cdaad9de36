"""One replay end to end: plan the range, read and decode it, build timelines, verify, report.

Typical use (``corps replay`` does this)::

    with Replayer(topology, kafka, registry) as replayer:
        report = replayer.run(ReplayOptions(verify=True))
    JsonlWriter(sys.stdout).write_report(report)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from corps.events import EventCodec, SchemaCatalog, SchemaRef, SchemaRegistry
from corps.events.errors import SchemaCatalogError
from corps.replay.coverage import Coverage
from corps.replay.decode import RecordDecoder
from corps.replay.errors import ReplayInputError
from corps.replay.filters import RecordFilter
from corps.replay.fold import Fold
from corps.replay.parallel import FoldJob, fold_in_workers, no_cyclic_gc, partition_groups
from corps.replay.reader import LogReader, ReplayRange, Span
from corps.replay.records import LogRecord
from corps.replay.report import ReplayReport
from corps.replay.topics import ReplayTopics, Role
from corps.replay.verify import verify_log
from corps.replay.verify_policy import DecisionReevaluator
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import Topology

__all__ = ["ReplayOptions", "Replayer", "topology_readers"]

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ReplayOptions:
    """What to replay and how.

    Attributes:
        topics: Topics (or roles) to read; default: admitted, proposed, lifecycle and decision topics
            (and, with ``verify``, the orchestrator's state changelog).
        range: Offsets or times.
        selection: Filters.
        verify: Check chains, re-derive state and re-take decisions.
        keep_data: Keep payloads on timeline entries (off saves memory on big summaries).
        readers: Event type -> reader schema to project payloads onto (default: each writer's own).
        workers: Processes that read and fold partition groups in parallel (1: this process only).
            The report is the same for any number; a verification or a shadow run (``sink``) folds
            in this process. See :mod:`corps.replay.parallel` for what it gains.
    """

    topics: tuple[str, ...] = ()
    range: ReplayRange = field(default_factory=ReplayRange)
    selection: RecordFilter = field(default_factory=RecordFilter)
    verify: bool = False
    keep_data: bool = True
    readers: Mapping[str, SchemaRef] = field(default_factory=dict)
    workers: int = 1

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ReplayInputError(f"--workers must be >= 1, got {self.workers}")


def topology_readers(topology: Topology, schemas: Path) -> dict[str, SchemaRef]:
    """The schema version the topology declares for each of its event types, as reader schemas.

    Raises:
        ReplayInputError: The catalog cannot be read or lacks a declared version.
    """
    try:
        catalog = SchemaCatalog.load(schemas)
        return {
            topology.schema_fullname(name): catalog[topology.schema_fullname(name)].version(event.version)
            for name, event in topology.events.items()
        }
    except (SchemaCatalogError, KeyError) as exc:
        raise ReplayInputError(f"{schemas}: cannot take the topology's reader schemas: {exc}") from exc


class Replayer:
    """Replays one topology's log.

    Args:
        topology: The topology whose topics are read.
        kafka: How to reach Kafka.
        registry: The schema registry (settings, or a client to share).
        reevaluators: Who re-takes policy decisions under ``verify`` (the gate's own checks always run).
        batch: Records per consume call.
        timeout_s: Give up when a partition yields nothing for this long before its end.
    """

    def __init__(
        self,
        topology: Topology,
        kafka: KafkaSettings,
        registry: RegistrySettings | SchemaRegistry,
        *,
        reevaluators: Sequence[DecisionReevaluator] = (),
        batch: int = 5000,
        timeout_s: float = 120.0,
    ) -> None:
        self.topology = topology
        self.topics = ReplayTopics.of(topology)
        self._own_registry = not isinstance(registry, SchemaRegistry)
        self.registry = registry if isinstance(registry, SchemaRegistry) else SchemaRegistry(registry)
        self.codec = EventCodec(self.registry, subject_strategy=self.topics.topics.subject)
        self.reader = LogReader(kafka.client_config(), batch=batch, timeout_s=timeout_s)
        self._job = (kafka.client_config(), self.registry.url, batch, timeout_s)
        self.reevaluators = list(reevaluators)

    def __enter__(self) -> Replayer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the registry client (when this replayer made it)."""
        if self._own_registry:
            self.registry.close()

    def topics_for(self, options: ReplayOptions) -> list[str]:
        """The topics a replay with ``options`` reads."""
        chosen = self.topics.select(options.topics)
        if options.verify and not options.topics:
            chosen = sorted({*chosen, *self.topics.of_role(Role.STATE)})
        return chosen

    def plan(self, options: ReplayOptions) -> list[Span]:
        """Resolve the range on every partition (see :meth:`LogReader.plan`).

        The state changelog a verification adds by itself is skipped when it does not exist (a gate
        that never ran, or a log written by other means).
        """
        optional = () if options.topics else self.topics.of_role(Role.STATE)
        return self.reader.plan(self.topics_for(options), options.range, optional=optional)

    def records(
        self,
        spans: Sequence[Span],
        options: ReplayOptions,
        *,
        on_batch: Progress | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[LogRecord]:
        """Read and decode the records of ``spans`` (in arrival order)."""
        decoder = RecordDecoder(self.codec, readers=options.readers)
        decode = decoder.from_message
        for batch in self.reader.read(spans, stop=stop, on_batch=on_batch):
            for message in batch:
                yield decode(message)

    def run(
        self,
        options: ReplayOptions,
        *,
        spans: Sequence[Span] | None = None,
        on_batch: Progress | None = None,
        sink: Callable[[LogRecord], None] | None = None,
    ) -> ReplayReport:
        """Replay the range: timelines of the chosen workflows, and the verification when asked.

        Args:
            options: What to replay.
            spans: The planned offsets (default: :meth:`plan` now).
            on_batch: Called with the size of every batch read (progress).
            sink: Called with every record read (e.g. to keep them for a shadow run).

        Raises:
            ReplayInputError: A topic does not exist or an option is invalid.
            ReplayUnavailableError: The broker or registry cannot be reached.
        """
        if options.range.follow:
            raise ReplayInputError("a report needs an end: use follow() to tail the log")
        spans = list(spans) if spans is not None else self.plan(options)
        groups = partition_groups(spans, options.workers)
        if len(groups) > 1 and not options.verify and sink is None:
            config, url, batch, timeout_s = self._job
            job = FoldJob(self.topology, config, url, options, batch, timeout_s)
            count, unreadable, states = fold_in_workers(job, groups, on_batch=on_batch)
            fold = Fold(self.topology, self.topics, self.codec, options)
            fold.count, fold.unreadable = count, unreadable
            with no_cyclic_gc():
                return self._report(fold, options, spans, states)
        return self.fold(self.reader.read(spans, on_batch=on_batch), options, spans=spans, sink=sink)

    def fold(
        self,
        batches: Iterable[Sequence[Any]],
        options: ReplayOptions,
        *,
        spans: Sequence[Span] = (),
        sink: Callable[[LogRecord], None] | None = None,
    ) -> ReplayReport:
        """Decode and fold batches of consumed messages into a report (:meth:`run` after reading)."""
        fold = Fold(self.topology, self.topics, self.codec, options, sink=sink)
        with no_cyclic_gc():
            fold.feed(batches)
            return self._report(fold, options, spans, None)

    def _report(
        self,
        fold: Fold,
        options: ReplayOptions,
        spans: Sequence[Span],
        states: Mapping[int, Mapping[str, Any]] | None,
    ) -> ReplayReport:
        builder = fold.merged(states)
        report = ReplayReport(
            workflow=self.topology.workflow.name,
            topology_version=self.topology.workflow.version,
            topics=sorted({s.topic for s in spans}),
            spans=sorted(spans),
            range=options.range,
            selection=options.selection,
            timelines=builder.build(options.selection),
            records=fold.count,
            unreadable=fold.unreadable,
        )
        if options.verify:
            chosen = {
                wf: recs
                for wf, recs in fold.by_workflow.items()
                if options.selection.keeps_workflow(wf, builder.tenant_of(wf))
            }
            report.verification = verify_log(
                chosen,
                topology=self.topology,
                topics=self.topics,
                codec=self.codec,
                coverage=Coverage.of(spans, options.range),
                reevaluators=self.reevaluators,
            )
        return report

    def follow(self, options: ReplayOptions, stop: threading.Event) -> Iterator[LogRecord]:
        """Tail the log from the range's start until ``stop`` is set; yield records chosen by the filters."""
        spans = self.reader.plan(
            self.topics_for(options),
            ReplayRange(
                from_offset=options.range.from_offset, from_time=options.range.from_time, follow=True
            ),
        )
        selection = options.selection
        for record in self.records(spans, options, stop=stop):
            if self.topics.role(record.topic) in (Role.STATE, Role.DEAD_LETTERS):
                continue
            if selection.keeps_workflow(record.workflow, record.tenant) and selection.keeps_record(record):
                yield record
