"""A replay's report is the same however partitions are split between folds (workers) and read in order."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from confluent_kafka import Message
from replay_log import LogMaker

from corps.events import RawRecord
from corps.replay import JsonlWriter, ReplayOptions, ReplayReport
from corps.replay.fold import Fold
from corps.replay.parallel import partition_groups
from corps.replay.reader import Span


def _message(raw: RawRecord) -> Message:
    return Message(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key,
        value=raw.value,
        headers=list(raw.headers),
        timestamp=(1, raw.timestamp_ms or 0),
    )


def _spans(messages: list[Message]) -> list[Span]:
    ends: dict[tuple[str, int], int] = {}
    for m in messages:
        tp = (m.topic() or "", m.partition() or 0)
        ends[tp] = max(ends.get(tp, 0), (m.offset() or 0) + 1)
    return [Span(topic, partition, 0, end) for (topic, partition), end in sorted(ends.items())]


def _digest(maker: LogMaker, options: ReplayOptions, parts: list[list[Message]]) -> str:
    """Fold each part separately (as workers do), hand the folds over pickled, merge, digest the JSONL."""
    assert maker.codec is not None
    states: dict[int, Any] = {}
    count = 0
    for part in parts:
        fold = Fold(maker.topology, maker.replay_topics, maker.codec, options)
        fold.feed([part])
        count += fold.count
        states.update(pickle.loads(pickle.dumps(fold.states())))
    merged = Fold(maker.topology, maker.replay_topics, maker.codec, options).merged(states)
    report = ReplayReport(
        workflow=maker.topology.workflow.name,
        topology_version=maker.topology.workflow.version,
        topics=[],
        spans=[],
        range=options.range,
        selection=options.selection,
        timelines=merged.build(options.selection),
        records=count,
    )
    return JsonlWriter(None).write_report(report)


@pytest.mark.parametrize("keep_data", [True, False])
def test_the_report_does_not_depend_on_the_split_or_the_arrival_order(
    maker: LogMaker, keep_data: bool
) -> None:
    messages = [_message(r) for r in maker.log]
    options = ReplayOptions(keep_data=keep_data)
    alone = _digest(maker, options, [messages])
    by_partition: dict[int, list[Message]] = {}
    for m in messages:
        by_partition.setdefault(m.partition() or 0, []).append(m)
    assert len(by_partition) == 2
    for workers in (2, 3):
        groups = partition_groups(_spans(messages), workers)
        parts = [
            [m for m in messages if (m.topic(), m.partition()) in {(s.topic, s.partition) for s in g}]
            for g in groups
        ]
        assert _digest(maker, options, parts) == alone
    assert _digest(maker, options, [list(reversed(messages))]) == alone
    assert _digest(maker, options, list(reversed(list(by_partition.values())))) == alone


def test_a_record_keyed_off_its_partition_merges_the_same_way(maker: LogMaker) -> None:
    """A copy of wf-1's event on partition 1 (wf-1 lives on 0): one fold or one per partition agree."""
    stray = maker.last("wf-1", "WorkflowCompleted")
    moved = RawRecord(stray.topic, 1, 999, stray.key, stray.value, stray.headers, stray.timestamp_ms)
    messages = [_message(r) for r in [*maker.log, moved]]
    options = ReplayOptions()
    alone = _digest(maker, options, [messages])
    split = _digest(maker, options, [[m for m in messages if m.partition() == p] for p in (1, 0)])
    assert split == alone


def test_a_fold_without_kept_payloads_keeps_every_status_and_lifecycle_detail(maker: LogMaker) -> None:
    assert maker.codec is not None
    messages = [_message(r) for r in maker.log]
    timelines = {}
    for keep in (True, False):
        fold = Fold(maker.topology, maker.replay_topics, maker.codec, ReplayOptions(keep_data=keep))
        fold.feed([messages])
        timelines[keep] = fold.merged().build()
    full, lean = timelines[True], timelines[False]
    assert [t.status for t in lean] == [t.status for t in full]
    assert [(t.failed_step, t.reason, t.retries) for t in lean] == [
        (t.failed_step, t.reason, t.retries) for t in full
    ]
    assert [t.compensations for t in lean] == [t.compensations for t in full]
    assert all(e.data is None for t in lean for e in t.entries if not e.lifecycle)
    assert any(e.data is not None for t in full for e in t.entries if not e.lifecycle)


def test_partition_groups_deal_whole_partitions_by_size() -> None:
    spans = [Span("a", p, 0, size) for p, size in enumerate((100, 10, 10, 80))] + [
        Span("b", p, 0, 5) for p in range(4)
    ]
    groups = partition_groups(spans, 2)
    assert len(groups) == 2
    owners = [{s.partition for s in g} for g in groups]
    assert owners == [{0}, {1, 2, 3}]  # 105 records against 115: largest first, to the least loaded
    assert sorted(p for g in owners for p in g) == [0, 1, 2, 3]
    assert len(partition_groups(spans, 8)) == 4
    assert partition_groups(spans, 1) == [spans]
