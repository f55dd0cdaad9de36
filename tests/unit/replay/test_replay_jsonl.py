"""The JSONL form is canonical: the same records give the same bytes and digest, whatever their order."""

from __future__ import annotations

import io
import json
import random

from replay_log import LogMaker

from corps.replay.builder import TimelineBuilder
from corps.replay.coverage import Coverage
from corps.replay.filters import RecordFilter
from corps.replay.reader import ReplayRange, Span
from corps.replay.render_jsonl import JsonlWriter, jsonable
from corps.replay.report import ReplayReport
from corps.replay.verify import verify_log


def report_of(maker: LogMaker, seed: int | None, *, verify: bool = True) -> ReplayReport:
    records = maker.records()
    if seed is not None:
        random.Random(seed).shuffle(records)
    builder = TimelineBuilder(maker.topology, maker.replay_topics)
    builder.add_all(records)
    spans = [Span("rp.A", 0, 0, 4), Span("rp.A", 1, 0, 2)]
    report = ReplayReport(
        "rp", 2, ["rp.A"], spans, ReplayRange(), RecordFilter(), builder.build(), len(records)
    )
    if verify:
        grouped: dict[str, list] = {}
        for record in records:
            grouped.setdefault(record.workflow, []).append(record)
        report.verification = verify_log(
            grouped,
            topology=maker.topology,
            topics=maker.replay_topics,
            codec=maker.codec,
            coverage=Coverage.everything(maker.replay_topics.roles),
        )
    return report


def render(report: ReplayReport) -> tuple[bytes, str]:
    out = io.StringIO()
    digest = JsonlWriter(out).write_report(report)
    return out.getvalue().encode(), digest


def test_two_replays_of_the_same_records_are_byte_identical(maker: LogMaker) -> None:
    first, digest1 = render(report_of(maker, None))
    second, digest2 = render(report_of(maker, 3))
    third, digest3 = render(report_of(maker, 11))
    assert first == second == third
    assert digest1 == digest2 == digest3
    assert digest1.startswith("sha256:")
    assert len(digest1) == 71


def test_the_digest_is_the_sha256_of_the_bytes(maker: LogMaker) -> None:
    import hashlib

    data, digest = render(report_of(maker, None))
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()


def test_lines_are_canonical_and_typed(maker: LogMaker) -> None:
    data, _ = render(report_of(maker, None))
    lines = data.decode().splitlines()
    objects = [json.loads(line) for line in lines]
    for line, obj in zip(lines, objects, strict=True):
        assert line == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    kinds = [o["record"] for o in objects]
    assert kinds[0] == "replay"
    assert kinds[-2:] == ["verification", "end"]
    assert kinds.count("workflow") == 4
    assert kinds.count("event") == sum(o["events"] for o in objects if o["record"] == "workflow")
    first_event = next(o for o in objects if o["record"] == "event")
    assert first_event["data"] == {"n": "wf-1:A"}
    assert objects[-1]["statuses"]["compensated"] == 2
    assert objects[-2]["ok"] is True


def test_a_different_log_gives_a_different_digest(maker: LogMaker) -> None:
    _, before = render(report_of(maker, None, verify=False))
    maker.happy("wf-5", 90)
    _, after = render(report_of(maker, None, verify=False))
    assert before != after


def test_jsonable_is_deterministic_for_avro_values() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal
    from uuid import UUID

    value = {
        "b": b"\x00\xff",
        "t": datetime(2025, 1, 1, tzinfo=UTC),
        "d": Decimal("1.50"),
        "u": UUID(int=1),
        "l": (1, 2.5, None, True),
    }
    assert jsonable(value) == {
        "b": "AP8=",
        "t": "2025-01-01T00:00:00+00:00",
        "d": "1.50",
        "u": "00000000-0000-0000-0000-000000000001",
        "l": [1, 2.5, None, True],
    }
