"""Replay partition groups in worker processes and merge their folds deterministically.

Workflows are keyed, so partition indexes are independent: each worker reads the spans of its
partition indexes with its own consumer and registry client, decodes and folds them
(:class:`~corps.replay.fold.Fold`), and sends back one fold per partition index, pickled. The parent
merges them in partition-index order, so the report is the same for any number of workers. Partition
indexes are dealt out by size (largest first, to the least loaded worker), which only balances work.

Workers come from a *forkserver* (never a plain ``fork``: the parent may hold librdkafka threads, which
a fork would copy half-alive): a clean process that imports the main module and this one once, then
forks a worker per group — so workers start without importing anything, and later replays in the same
process reuse the server. As with any ``multiprocessing`` start method but ``fork``, a script that
replays with workers must keep its top level behind ``if __name__ == "__main__":``.

What it gains is bounded by the hand-over and by whole partition indexes: on the G6 log (3
partitions, 2 workers) the slowest worker's fold and pickling cost about 9.5 us of CPU per record of
the log and the parent's unpickling, merge and build about 3.5 us, against 15-19 us in one process —
a critical path 1.2-1.4x shorter on idle cores (``python -m bench.g6_profile``), none on busy ones.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import queue
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corps.events import EventCodec, SchemaRegistry
from corps.replay.errors import ReplayError, ReplayInputError, ReplayUnavailableError
from corps.replay.fold import Fold
from corps.replay.reader import LogReader, Span
from corps.replay.topics import ReplayTopics
from corps.settings import RegistrySettings
from corps.topology import Topology

if TYPE_CHECKING:
    from corps.replay.session import ReplayOptions

__all__ = ["FoldJob", "fold_in_workers", "no_cyclic_gc", "partition_groups"]

_POLL_S = 0.2
_ERRORS: dict[str, type[ReplayError]] = {
    "input": ReplayInputError,
    "unavailable": ReplayUnavailableError,
}


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause CPython's cyclic collector while records are read and folded.

    A replay keeps millions of small acyclic objects (records, headers, payload dicts, entries); the
    collector would walk all of them again and again as they pile up — measured here, that halved the
    read rate. Nothing read forms a reference cycle, so pausing it frees nothing late.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class FoldJob:
    """What a worker needs to fold its spans (picklable).

    Attributes:
        topology: The topology replayed.
        client_config: librdkafka settings.
        registry_url: The schema registry.
        options: The replay's options.
        batch: Records per consume call.
        timeout_s: The reader's stall timeout.
    """

    topology: Topology
    client_config: dict[str, str]
    registry_url: str
    options: ReplayOptions
    batch: int
    timeout_s: float


def partition_groups(spans: Sequence[Span], workers: int) -> list[list[Span]]:
    """Deal the spans out to at most ``workers`` groups, whole partition indexes at a time, by size."""
    sizes: dict[int, int] = {}
    for span in spans:
        sizes[span.partition] = sizes.get(span.partition, 0) + span.size
    loads = [0] * max(1, min(workers, len(sizes)))
    owner: dict[int, int] = {}
    for partition in sorted(sizes, key=lambda p: (-sizes[p], p)):
        target = min(range(len(loads)), key=lambda i: (loads[i], i))
        owner[partition] = target
        loads[target] += sizes[partition]
    groups: list[list[Span]] = [[] for _ in loads]
    for span in spans:
        groups[owner[span.partition]].append(span)
    return [g for g in groups if g]


def _work(job: FoldJob, spans: list[Span], progress: Any, results: Any) -> None:
    """A worker: read, decode and fold ``spans``; put ``("ok", count, unreadable, states)`` or an error."""
    try:
        with SchemaRegistry(RegistrySettings(url=job.registry_url)) as registry:
            topics = ReplayTopics.of(job.topology)
            codec = EventCodec(registry, subject_strategy=topics.topics.subject)
            fold = Fold(job.topology, topics, codec, job.options)
            reader = LogReader(job.client_config, batch=job.batch, timeout_s=job.timeout_s)

            def advance(n: int) -> None:
                with progress.get_lock():
                    progress.value += n

            with no_cyclic_gc():  # the fold and its pickling: millions of acyclic objects
                fold.feed(reader.read(spans, on_batch=advance))
                states = pickle.dumps(fold.states(), protocol=pickle.HIGHEST_PROTOCOL)
        results.put(("ok", fold.count, fold.unreadable, states))
    except ReplayInputError as exc:
        results.put(("input", str(exc)))
    except ReplayUnavailableError as exc:
        results.put(("unavailable", str(exc)))
    except Exception as exc:  # anything else: reported by the parent, never a silent hang
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def fold_in_workers(
    job: FoldJob,
    groups: Sequence[Sequence[Span]],
    *,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[int, int, dict[int, dict[str, Any]]]:
    """Fold each group of spans in a worker process of its own.

    Returns:
        Records read, unreadable records, and each partition index's fold.

    Raises:
        ReplayInputError: A worker found an input problem.
        ReplayUnavailableError: A worker could not read the log.
        ReplayError: A worker failed otherwise, or died.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])  # imported once, in the server
    results = context.Queue()
    counters = [context.Value("q", 0) for _ in groups]
    workers = [
        context.Process(target=_work, args=(job, list(group), counter, results), daemon=True)
        for group, counter in zip(groups, counters, strict=True)
    ]
    for worker in workers:
        worker.start()
    done: list[tuple[Any, ...]] = []
    reported = 0
    try:
        while len(done) < len(workers):
            try:
                done.append(results.get(timeout=_POLL_S))
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise ReplayError("a replay worker died (see its stderr)") from None
            if on_batch is not None:
                total = sum(int(c.value) for c in counters)
                if total > reported:
                    on_batch(total - reported)
                    reported = total
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
    count = unreadable = 0
    states: dict[int, dict[str, Any]] = {}
    for item in done:
        if item[0] != "ok":
            raise _ERRORS.get(item[0], ReplayError)(f"replay worker: {item[1]}")
        count += item[1]
        unreadable += item[2]
        with no_cyclic_gc():
            states.update(pickle.loads(item[3]))  # noqa: S301 - our own worker's fold, never foreign input
    return count, unreadable, states
