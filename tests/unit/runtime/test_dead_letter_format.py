"""Dead-letter headers: reasons added, original headers and bytes kept, parse back for `corps dlq`."""

from __future__ import annotations

from corps.runtime.dlq import DeadLetter, DeadLetterReason, dead_letter_headers, strip_dead_letter_headers


def _letter_headers() -> list[tuple[str, bytes]]:
    return dead_letter_headers(
        [("ce_id", b"abc"), ("x-bin", b"\x00\xff")],
        reason=DeadLetterReason.UNKNOWN_MAGIC_BYTE,
        detail="first byte 0x7b, expected 0x00",
        agent="triage",
        topic="in",
        partition=3,
        offset=42,
        time_ms=1234,
    )


def test_original_headers_come_first_unchanged() -> None:
    headers = _letter_headers()
    assert headers[:2] == [("ce_id", b"abc"), ("x-bin", b"\x00\xff")]
    assert dict(headers)["corps_dlq_reason"] == b"unknown-magic-byte"


def test_parse_back() -> None:
    letter = DeadLetter.from_record(
        topic="triage.dlq", partition=0, offset=9, key=b"wf-1", value=b"{not avro", headers=_letter_headers()
    )
    assert (letter.reason, letter.agent, letter.topic, letter.partition, letter.offset, letter.time_ms) == (
        "unknown-magic-byte",
        "triage",
        "in",
        3,
        42,
        1234,
    )
    assert letter.value == b"{not avro"
    assert letter.original_headers == [("ce_id", b"abc"), ("x-bin", b"\x00\xff")]


def test_dead_lettering_twice_does_not_stack_headers() -> None:
    again = dead_letter_headers(
        _letter_headers(),
        reason=DeadLetterReason.TRUNCATED_BODY,
        detail="d",
        agent="a",
        topic="t",
        partition=0,
        offset=0,
        time_ms=0,
    )
    assert [k for k, _ in again].count("corps_dlq_reason") == 1
    assert dict(again)["corps_dlq_reason"] == b"truncated-body"


def test_missing_or_garbled_dlq_headers_read_as_unknown() -> None:
    letter = DeadLetter.from_record(
        topic="d", partition=0, offset=0, key=None, value=None, headers=[("corps_dlq_offset", b"x")]
    )
    assert letter.offset == -1
    assert letter.reason == ""


def test_strip() -> None:
    assert strip_dead_letter_headers(_letter_headers()) == [("ce_id", b"abc"), ("x-bin", b"\x00\xff")]
