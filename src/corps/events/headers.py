"""CloudEvents binary-mode header names and the cheap checks behind :class:`~corps.events.Envelope`.

Every record corps produces builds an envelope, so :meth:`Envelope.new` checks the common case
with the plain comparisons here instead of the model's validator. They accept **the same or fewer**
values than the model's field constraints; whatever they do not accept (a string subclass, a
non-UTC time, extensions...) goes to the pydantic model, which then accepts it or raises the
detailed error, so the fast path never changes what is valid, only what it costs. A unit test
holds both paths to the same answers. (Reading headers stays with pydantic: its Rust validator is
as fast as any Python check of bytes.)
"""

from __future__ import annotations

import os
import re
from datetime import datetime

__all__ = [
    "CONTENT_TYPE",
    "HEADER_OF",
    "KNOWN",
    "OPTIONAL",
    "REQUIRED",
    "RESERVED_EXTENSIONS",
    "format_time",
    "new_id",
    "remember_time",
    "text_ok",
    "trace_ok",
    "type_ok",
]

CONTENT_TYPE = "application/avro"
FULLNAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"

HEADER_OF: dict[str, str] = {
    "specversion": "ce_specversion",
    "id": "ce_id",
    "source": "ce_source",
    "type": "ce_type",
    "time": "ce_time",
    "datacontenttype": "content-type",
    "tenant": "ce_tenant",
    "workflow_id": "ce_workflowid",
    "causation_id": "ce_causationid",
    "step": "ce_step",
    "traceparent": "traceparent",
    "tracestate": "tracestate",
}
"""Envelope field -> Kafka header name."""
KNOWN = frozenset(HEADER_OF.values())
OPTIONAL = (
    ("causation_id", "ce_causationid"),
    ("step", "ce_step"),
    ("traceparent", "traceparent"),
    ("tracestate", "tracestate"),
)
REQUIRED = frozenset(("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type",
                      "ce_tenant", "ce_workflowid"))  # fmt: skip
RESERVED_EXTENSIONS = frozenset(h.removeprefix("ce_") for h in KNOWN if h.startswith("ce_"))

_TEXT_MAX = 1024
_TYPE_MAX = 512
_TRACESTATE_MAX = 512
_type_match = re.compile(FULLNAME).fullmatch
_trace_match = re.compile(TRACEPARENT).fullmatch
_types_ok: set[str] = set()  # event types seen valid (a handful per process)
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_ids: list[str] = []


def new_id() -> str:
    """Return a random UUID4 string (drawn from ``os.urandom`` 128 ids at a time; reset on fork)."""
    if not _ids:
        h = os.urandom(2048).hex()
        _ids.extend(
            f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-"
            f"{_VARIANT[h[i + 16]]}{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
            for i in range(0, 4096, 32)
        )
    return _ids.pop()


os.register_at_fork(after_in_child=_ids.clear)  # a forked child must not replay the parent's ids


def text_ok(value: object) -> bool:
    """True when ``value`` is a ``str`` of 1 to 1024 characters (the envelope's text attributes)."""
    return type(value) is str and 0 < len(value) <= _TEXT_MAX


def type_ok(value: object) -> bool:
    """True when ``value`` is a ``str`` Avro fullname of at most 512 characters."""
    if value in _types_ok:
        return True
    if type(value) is not str or len(value) > _TYPE_MAX or _type_match(value) is None:
        return False
    if len(_types_ok) < 4096:
        _types_ok.add(value)
    return True


def trace_ok(traceparent: object, tracestate: object) -> bool:
    """True when both are ``None`` or well formed (W3C ``traceparent``, ``tracestate`` <= 512 chars)."""
    if traceparent is not None and (type(traceparent) is not str or _trace_match(traceparent) is None):
        return False
    return tracestate is None or (type(tracestate) is str and len(tracestate) <= _TRACESTATE_MAX)


_last_time: list[tuple[datetime | None, bytes]] = [(None, b"")]
"""The last time formatted: the same datetime object is often formatted twice in a row (an event's
headers, then its decision record's). The entry is swapped whole, never edited."""


def format_time(moment: datetime) -> bytes:
    """Return ``ce_time``: RFC 3339, ``Z`` for UTC."""
    last = _last_time[0]
    if last[0] is moment:  # the very same (immutable) object: the same text
        return last[1]
    text = moment.isoformat().replace("+00:00", "Z").encode()
    _last_time[0] = (moment, text)
    return text


_format_of_time = re.compile(
    rb"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    rb"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{6})?Z"
).fullmatch
"""The text :func:`format_time` writes: UTC ``Z``, six fraction digits or none (never ``.000000``)."""


def remember_time(moment: datetime, raw: bytes | None) -> None:
    """Note that ``moment`` was read from the ``ce_time`` ``raw``: formatting it again costs nothing.

    Only when ``raw`` is in the one form :func:`format_time` writes (then it is exactly what
    :func:`format_time` makes of ``moment``); any other form is left to be formatted. The gate writes
    each proposed event's time again in its decision record.
    """
    if type(raw) is bytes and _format_of_time(raw) is not None and raw[19:26] != b".000000":
        _last_time[0] = (moment, raw)
