"""Check the admitted topics against a workflow's chain: forged records and reordered events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

from corps.replay.chain_links import ChainChecker
from corps.replay.records import LogRecord

__all__ = ["check_forged", "check_reordered"]


def check_forged(
    check: ChainChecker, records: Sequence[LogRecord], chained: dict[int, tuple[LogRecord, int]]
) -> None:
    """Records on admitted topics must each be some link's event."""
    decided = {vl.link.event_id for vl in check.result.links}
    for record in sorted(records, key=LogRecord.position):
        role = check.topics.roles.get(record.topic)
        if role is None or not role.admitted_side or id(record) in chained:
            continue
        check.out.count("events")
        if record.event_id in decided:
            continue  # reported against its link (altered or duplicate copy)
        decisions = check.topics.topics.decisions
        in_range = check.coverage.from_start(decisions, record.partition) and not check.coverage.near_end(
            record.timestamp_ms
        )
        if not check.result.from_zero or not in_range:
            check.note(
                "outside-range",
                f"{record.event_type} {record.event_id}: its link may be before the range",
                location=record.describe(),
                event_id=record.event_id,
            )
            continue
        what = (
            f"{record.event_type} {record.event_id}"
            if record.event_id
            else "a record without a valid envelope"
        )
        check.error(
            "forged",
            f"{what} is on admitted topic {record.topic}, but no link of the gate's chain admitted it",
            location=record.describe(),
            event_id=record.event_id,
        )


def check_reordered(check: ChainChecker, chained: dict[int, tuple[LogRecord, int]]) -> None:
    """On each admitted partition, chained events must sit in the order of their links."""
    check.out.count("events", len(chained))
    by_partition: dict[tuple[str, int], list[tuple[int, int, LogRecord]]] = defaultdict(list)
    for record, sequence in chained.values():
        role = check.topics.roles.get(record.topic)
        if role is not None and role.admitted_side:
            by_partition[(record.topic, record.partition)].append((record.offset, sequence, record))
    for key in sorted(by_partition):
        placed = sorted(by_partition[key], key=lambda item: item[0])
        for (_, seq_a, rec_a), (_, seq_b, rec_b) in pairwise(placed):
            if seq_b < seq_a:
                check.error(
                    "reordered",
                    f"{rec_b.event_type} {rec_b.event_id} (link {seq_b}) sits after {rec_a.event_type} "
                    f"{rec_a.event_id} (link {seq_a}) at {rec_a.describe()}",
                    sequence=seq_b,
                    location=rec_b.describe(),
                    event_id=rec_b.event_id,
                )
