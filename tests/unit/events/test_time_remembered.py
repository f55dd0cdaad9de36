"""A ``ce_time`` read from headers is remembered as its own text only when that is what format_time writes.

``Envelope.from_headers`` hands the header bytes to ``remember_time``, so the gate's decision record
formats the same datetime for free. Here every time pydantic accepts, remembered or not, must format
to the documented form (``isoformat`` with ``Z`` for UTC), on a seeded battery of canonical and
non-canonical texts.
"""

from __future__ import annotations

import random

import pytest

from corps.events import Envelope, RawRecord
from corps.events.errors import EnvelopeError
from corps.events.headers import format_time


def _texts(rng: random.Random) -> list[bytes]:
    texts = []
    for _ in range(3000):
        year = rng.choice([1, 999, 1970, 2024, 2025, 9999])
        month, day = rng.choice([1, 2, 12, 13, 0]), rng.choice([1, 28, 29, 30, 31, 32])
        hour, minute, second = rng.choice([0, 23, 24]), rng.choice([0, 59, 60]), rng.choice([0, 59, 60])
        fraction = rng.choice(["", ".000000", ".000001", ".123456", ".5", ".123", ".1234567", ".000"])
        zone = rng.choice(["Z", "Z", "Z", "+00:00", "+02:00", "-00:00", "z", ""])
        sep = rng.choice(["T", "T", "T", "t", " "])
        texts.append(
            f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}".encode()
        )
    return texts


def _headers(time: bytes) -> list[tuple[str, bytes | None]]:
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"e-1"),
        ("ce_source", b"s"),
        ("ce_type", b"a.B"),
        ("ce_time", time),
        ("content-type", b"application/avro"),
        ("ce_tenant", b"t"),
        ("ce_workflowid", b"w"),
    ]


def test_every_time_read_formats_to_the_documented_text() -> None:
    rng = random.Random(5)
    remembered = 0
    for text in _texts(rng):
        headers = _headers(text)
        raw = RawRecord("topic", 0, 0, b"w", b"", headers)
        try:
            envelope = Envelope.from_headers(headers, raw)
        except EnvelopeError:
            continue
        documented = envelope.time.isoformat().replace("+00:00", "Z").encode()
        written = format_time(envelope.time)
        assert written == documented, text
        remembered += written is text  # the header's own bytes: remembered, not formatted again
    assert remembered >= 10  # the canonical texts did take the remembered path


@pytest.mark.parametrize(
    "text",
    [
        b"2025-01-01T00:00:00.000000Z",
        b"2025-01-01T00:00:00+00:00",
        b"2025-01-01 00:00:00Z",
        b"2025-01-01T00:00:00.5Z",
    ],
)
def test_texts_format_time_would_not_write_are_formatted_again(text: bytes) -> None:
    headers = _headers(text)
    envelope = Envelope.from_headers(headers, RawRecord("topic", 0, 0, b"w", b"", headers))
    written = format_time(envelope.time)
    assert written is not text
    assert written == envelope.time.isoformat().replace("+00:00", "Z").encode()
