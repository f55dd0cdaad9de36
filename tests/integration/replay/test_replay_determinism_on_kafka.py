"""Two replays of the same range give byte-identical JSONL and the same digest; ranges by offset and time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.integration.replay.replay_kafka import KafkaLog, lines

pytestmark = pytest.mark.integration


def digest(stderr: str) -> str:
    return next(line.split()[1] for line in stderr.splitlines() if line.startswith("digest "))


def test_two_replays_are_byte_identical(four: KafkaLog) -> None:
    four.write()
    first = four.replay("--format", "jsonl", "--verify")
    second = four.replay("--format", "jsonl", "--verify")
    assert first.exit_code == second.exit_code == 0
    assert first.stdout_bytes == second.stdout_bytes
    assert digest(first.stderr) == digest(second.stderr)
    assert digest(first.stderr).startswith("sha256:")


def test_a_longer_log_changes_the_digest_and_a_pinned_range_does_not(four: KafkaLog) -> None:
    four.write()
    end = (four.maker.t0 + timedelta(seconds=100)).isoformat()
    before = four.replay("--format", "jsonl", "--to-time", end)
    four.maker.happy("wf-late", 200)
    four.write([r for r in four.maker.log if r.key == b"wf-late"])
    pinned = four.replay("--format", "jsonl", "--to-time", end)
    everything = four.replay("--format", "jsonl")
    assert before.stdout_bytes == pinned.stdout_bytes
    assert digest(before.stderr) == digest(pinned.stderr)
    assert digest(everything.stderr) != digest(pinned.stderr)
    assert "wf-late" in everything.stdout


def test_a_time_range_selects_the_records_written_in_it(four: KafkaLog) -> None:
    four.write()
    start = (four.maker.t0 + timedelta(seconds=10)).isoformat()
    end = (four.maker.t0 + timedelta(seconds=25)).isoformat()
    result = four.replay("--format", "jsonl", "--from-time", start, "--to-time", end, "--verify")
    assert result.exit_code == 0, result.output
    objects = lines(result)
    assert [o["workflow_id"] for o in objects if o["record"] == "workflow"] == ["wf-2"]
    notes = [o for o in objects if o["record"] == "finding"]
    assert all(o["severity"] == "note" for o in notes)  # a partial range is never a discrepancy


def test_from_offset_skips_the_start_of_every_partition(four: KafkaLog) -> None:
    four.write()
    result = four.replay("--format", "jsonl", "--from-offset", "1", "--topics", "A")
    assert result.exit_code == 0, result.output
    objects = lines(result)
    assert objects[0]["spans"] == [[four.topic("A"), 0, 1, 2], [four.topic("A"), 1, 1, 2]]
    assert [o["workflow_id"] for o in objects if o["record"] == "workflow"] == ["wf-2", "wf-4"]


def test_bad_times_are_refused(four: KafkaLog) -> None:
    result = four.replay("--from-time", "yesterday")
    assert result.exit_code == 2
    assert "--from-time" in result.output
    result = four.replay("--to-time", "2025-01-01T00:00:00")
    assert result.exit_code == 2
    assert "time zone" in result.output


def test_worker_processes_give_the_same_bytes_as_one_process(four: KafkaLog) -> None:
    four.write()
    alone = four.replay("--format", "jsonl", "--workers", "1")
    split = four.replay("--format", "jsonl", "--workers", "2")
    more = four.replay("--format", "jsonl", "--workers", "3")  # more workers than partitions
    assert alone.exit_code == split.exit_code == more.exit_code == 0, split.output
    assert alone.stdout_bytes == split.stdout_bytes == more.stdout_bytes
    assert digest(alone.stderr) == digest(split.stderr)
    assert {o["workflow_id"] for o in lines(split) if o["record"] == "workflow"} == {
        "wf-1",
        "wf-2",
        "wf-3",
        "wf-4",
    }


def test_workers_must_be_positive(four: KafkaLog) -> None:
    result = four.replay("--workers", "0")
    assert result.exit_code == 2
    assert "--workers" in result.output
