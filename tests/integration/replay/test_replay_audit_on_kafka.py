"""`corps.replay.audit` — the one call `make demo` makes: replay, verify, write HTML and JSONL, summarise."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.replay.replay_kafka import KafkaLog, new_id

from corps.replay import audit
from corps.settings import KafkaSettings, RegistrySettings

pytestmark = pytest.mark.integration


def run_audit(log: KafkaLog, out: Path):  # type: ignore[no-untyped-def]
    return audit(
        log.topology,
        KafkaSettings(bootstrap_servers=log.stack.bootstrap_servers),
        RegistrySettings(url=log.stack.schema_registry_url),
        out,
    )


def test_an_audit_writes_both_reports_and_summarises(four: KafkaLog, tmp_path: Path) -> None:
    four.write()
    summary = run_audit(four, tmp_path / "reports")
    assert summary.ok
    assert summary.workflows == 4
    assert summary.statuses == {"completed": 1, "compensated": 2, "failed": 1}
    assert summary.html.is_file()
    assert summary.jsonl.is_file()
    assert summary.html.name == f"replay-{four.name}.html"
    text = summary.describe()
    assert "verified: no discrepancy" in text
    assert str(summary.html) in text
    # the JSONL written is what the CLI prints for the same range
    cli = four.replay("--format", "jsonl", "--verify")
    assert cli.stdout_bytes == summary.jsonl.read_bytes()
    assert summary.digest in cli.stderr


def test_an_audit_of_a_tampered_log_lists_the_discrepancy(four: KafkaLog, tmp_path: Path) -> None:
    four.write()
    original = four.records(four.topic("B"), "wf-2")[0]
    headers = [(n, new_id().encode() if n == "ce_id" else v or b"") for n, v in original.headers]
    four.plain_produce(four.topic("B"), original.key, original.value, headers)
    summary = run_audit(four, tmp_path)
    assert not summary.ok
    assert len(summary.errors) == 1
    assert "[chain/forged] workflow wf-2" in summary.errors[0]
    assert "verification FAILED: 1 discrepancies" in summary.describe()
