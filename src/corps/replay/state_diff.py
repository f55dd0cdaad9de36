"""Compare an event the orchestrator's code re-derives with the event the log recorded."""

from __future__ import annotations

from corps.events import EventCodec, RawRecord
from corps.events.errors import RecordError, RegistryError
from corps.orchestrator.chain import event_digest
from corps.orchestrator.topics import OutRecord
from corps.replay.records import LogRecord

__all__ = ["describe_out", "difference"]


def difference(codec: EventCodec, expected: OutRecord, event: LogRecord) -> str:
    """What differs between an event re-derivation writes and the one the log holds ("" when none)."""
    if event_digest(expected.topic, expected.key, expected.headers, expected.value) == event_digest(
        event.topic, event.key, event.headers, event.value
    ):
        return ""
    diffs: list[str] = []
    derived_h = {n: (v or b"").decode(errors="replace") for n, v in expected.headers if n.startswith("ce_")}
    recorded_h = {n: (v or b"").decode(errors="replace") for n, v in event.headers if n.startswith("ce_")}
    diffs.extend(
        f"{name} {derived_h.get(name)!r} (recorded {recorded_h.get(name)!r})"
        for name in sorted(set(derived_h) | set(recorded_h))
        if derived_h.get(name) != recorded_h.get(name)
    )
    try:
        _, derived = codec.decode_datum(
            RawRecord(expected.topic, 0, 0, expected.key, expected.value, expected.headers)
        )
        _, recorded = codec.decode_datum(event.raw())
    except (RecordError, RegistryError) as exc:
        diffs.append(f"payload not comparable: {exc}")
    else:
        diffs.extend(
            f"{name}={derived[name]!r} (recorded {recorded[name]!r})"
            for name in sorted(set(derived) & set(recorded))
            if derived[name] != recorded[name]
        )
    if not diffs:
        return ""  # the same event written with another schema version
    return f"{describe_out(expected)}: " + "; ".join(diffs)


def describe_out(record: OutRecord) -> str:
    """``<short type> <id>`` of a record the driver writes, read from its CloudEvents headers."""
    headers = dict(record.headers)
    kind = (headers.get("ce_type") or b"?").decode(errors="replace").rpartition(".")[2]
    event_id = (headers.get("ce_id") or b"?").decode(errors="replace")
    return f"{kind} {event_id}"
