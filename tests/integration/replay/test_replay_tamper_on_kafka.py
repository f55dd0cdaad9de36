"""`corps replay --verify` on the real broker: an intact log passes; each tamper is found and named."""

from __future__ import annotations

import pytest
from tests.integration.replay.replay_kafka import KafkaLog, lines, new_id

pytestmark = pytest.mark.integration


def errors(log: KafkaLog) -> list[dict]:
    result = log.replay("--verify", "--format", "jsonl")
    assert result.exit_code == 3, result.output
    assert "verification FAILED" in result.stderr
    return [o for o in lines(result) if o["record"] == "finding" and o["severity"] == "error"]


def test_an_intact_log_verifies(four: KafkaLog) -> None:
    four.write()
    result = four.replay("--verify", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    summary = next(o for o in lines(result) if o["record"] == "verification")
    assert summary["ok"] is True
    assert summary["counts"]["links_verified"] == summary["counts"]["links"] == 35
    assert summary["counts"]["workflows_rederived"] == 4
    assert summary["counts"]["state_heads"] == 4
    assert "verified: no discrepancy" in result.stderr


def test_a_forged_event_written_straight_into_an_admitted_topic(four: KafkaLog) -> None:
    four.write()
    original = four.records(four.topic("C"), "wf-1")[0]
    headers = [(n, new_id().encode() if n == "ce_id" else v or b"") for n, v in original.headers]
    four.plain_produce(four.topic("C"), original.key, original.value, headers, partition=0)
    end = sum(1 for r in four.maker.log if r.topic == four.topic("C") and r.partition == 0)
    found = errors(four)
    assert [(f["kind"], f["workflow_id"], f["location"]) for f in found] == [
        ("forged", "wf-1", f"{four.topic('C')}[0]@{end}")
    ]


def test_an_altered_copy_of_an_event(four: KafkaLog) -> None:
    four.write()
    original = four.records(four.topic("lifecycle"), "wf-2")[-1]  # WorkflowCompensated
    value = bytearray(original.value or b"")
    value[-3] ^= 0x01
    four.plain_produce(
        four.topic("lifecycle"),
        original.key,
        bytes(value),
        [(n, v or b"") for n, v in original.headers],
        partition=0,
    )
    found = errors(four)
    assert [(f["kind"], f["workflow_id"], f["sequence"]) for f in found] == [("altered", "wf-2", 11)]
    assert "altered copy" in found[0]["message"]


def test_a_gap_where_an_admitted_event_is_missing(four: KafkaLog) -> None:
    gone = four.records(four.topic("B"), "wf-3")[0]
    four.write(skip=lambda r: r is gone)
    found = errors(four)
    assert [(f["kind"], f["workflow_id"], f["sequence"]) for f in found] == [("missing", "wf-3", 2)]


def test_a_gap_in_the_decision_log(four: KafkaLog) -> None:
    gone = four.records(four.topic("decisions"), "wf-4")[5]
    four.write(skip=lambda r: r is gone)
    found = {(f["kind"], f["workflow_id"]) for f in errors(four)}
    assert ("chain-gap", "wf-4") in found


def test_a_table_names_the_findings_and_exits_3(four: KafkaLog) -> None:
    four.write()
    original = four.records(four.topic("D"), "wf-1")[0]
    headers = [(n, new_id().encode() if n == "ce_id" else v or b"") for n, v in original.headers]
    four.plain_produce(four.topic("D"), original.key, original.value, headers)
    result = four.replay("--verify")
    assert result.exit_code == 3
    assert "verification FAILED: 1 discrepancy" in result.stdout
    assert "[chain/forged] workflow wf-1" in result.stdout
