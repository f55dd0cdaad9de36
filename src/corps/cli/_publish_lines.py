"""Read ``corps publish`` input: JSON Lines of payloads or CloudEvents JSON events, validated offline.

See :mod:`corps.cli.publish` for the two line forms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from corps.events import Envelope, EventCodec, EventValidationError, SchemaRef
from corps.events.errors import InvalidEnvelopeError

__all__ = ["Parsed", "parse_lines"]

_CE_ATTRIBUTES = {
    "id",
    "source",
    "time",
    "tenant",
    "workflowid",
    "causationid",
    "step",
    "traceparent",
    "tracestate",
}


@dataclass
class Parsed:
    """The outcome of reading the input: events ready to encode, and rejected lines with reasons."""

    accepted: list[tuple[int, dict[str, Any], Envelope]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def parse_lines(lines: list[str], ref: SchemaRef, *, tenant: str, source: str) -> Parsed:
    """Parse and validate JSON lines against ``ref``; never touches the network."""
    parsed = Parsed()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.rejected.append((number, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            datum, envelope = _split(obj, ref.event_type, tenant=tenant, source=source)
            EventCodec.validate(ref, datum)
        except (ValueError, EventValidationError, InvalidEnvelopeError) as exc:
            parsed.rejected.append((number, str(exc)))
            continue
        parsed.accepted.append((number, datum, envelope))
    return parsed


def _split(obj: Any, event_type: str, *, tenant: str, source: str) -> tuple[dict[str, Any], Envelope]:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "specversion" not in obj:
        return obj, Envelope.new(event_type, tenant=tenant, source=source)
    if obj["specversion"] != "1.0":
        raise ValueError(f"CloudEvents specversion {obj['specversion']!r} is not 1.0")
    if obj.get("type", event_type) != event_type:
        raise ValueError(f"CloudEvents type {obj['type']!r} is not {event_type}")
    if obj.get("datacontenttype", "application/json") != "application/json":
        raise ValueError("CloudEvents datacontenttype must be application/json in JSON Lines input")
    if "data" not in obj:
        raise ValueError("CloudEvents event without data")
    attrs = {k: v for k, v in obj.items() if k not in {"specversion", "type", "datacontenttype", "data"}}
    bad = [k for k, v in attrs.items() if not isinstance(v, str)]
    if bad:
        raise ValueError(f"CloudEvents attribute(s) {', '.join(sorted(bad))} must be strings")
    when = None
    if "time" in attrs:
        try:
            when = datetime.fromisoformat(attrs["time"])
        except ValueError:
            raise ValueError(f"CloudEvents time {attrs['time']!r} is not RFC 3339") from None
    envelope = Envelope.new(
        event_type,
        tenant=attrs.get("tenant", tenant),
        workflow_id=attrs.get("workflowid"),
        source=attrs.get("source", source),
        causation_id=attrs.get("causationid"),
        step=attrs.get("step"),
        traceparent=attrs.get("traceparent"),
        tracestate=attrs.get("tracestate"),
        time=when,
        event_id=attrs.get("id"),
        extensions={k: v for k, v in attrs.items() if k not in _CE_ATTRIBUTES},
    )
    return obj["data"], envelope
