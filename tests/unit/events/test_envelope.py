"""The CloudEvents envelope: building, headers round trip, and typed errors on bad headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from corps.events import Envelope, RawRecord
from corps.events.envelope import new_id
from corps.events.errors import EnvelopeError, InvalidEnvelopeError
from corps.events.headers import format_time

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _raw(headers: list[tuple[str, bytes | None]], key: bytes = b"wf-1") -> RawRecord:
    return RawRecord("orders", 2, 17, key, b"\x00", headers)


def _full() -> Envelope:
    return Envelope.new(
        "demo.support.TicketOpened",
        tenant="acme",
        workflow_id="wf-1",
        source="corps://test",
        causation_id="evt-0",
        step="triage",
        traceparent=TRACEPARENT,
        tracestate="vendor=1",
        extensions={"decisionid": "d-9"},
    )


def test_new_fills_id_time_and_workflow_id() -> None:
    before = datetime.now(UTC)
    envelope = Envelope.new("demo.support.TicketOpened", tenant="acme")
    assert envelope.specversion == "1.0"
    assert envelope.datacontenttype == "application/avro"
    assert len(envelope.id) == 36
    assert envelope.id != envelope.workflow_id
    assert before <= envelope.time <= datetime.now(UTC)
    assert envelope.key == envelope.workflow_id.encode()


def test_new_id_is_a_uuid4() -> None:
    import uuid

    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in list(ids)[:50]:
        parsed = uuid.UUID(value)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_headers_round_trip_every_attribute() -> None:
    envelope = _full()
    headers = envelope.to_headers()
    names = [name for name, _ in headers]
    assert names[:8] == [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "content-type",
        "ce_tenant",
        "ce_workflowid",
    ]
    assert {"ce_causationid", "ce_step", "traceparent", "tracestate", "ce_decisionid"} <= set(names)
    assert Envelope.from_headers(headers, _raw(list(headers))) == envelope


def test_optional_attributes_are_omitted_when_absent() -> None:
    headers = Envelope.new("a.B", tenant="t", workflow_id="w").to_headers()
    assert len(headers) == 8


def test_time_is_rfc3339_with_z_and_other_offsets_survive() -> None:
    utc = Envelope.new("a.B", tenant="t", time=datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    assert dict(utc.to_headers())["ce_time"] == b"2025-01-02T03:04:05.600000Z"
    plus2 = Envelope.new(
        "a.B", tenant="t", time=datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    )
    decoded = Envelope.from_headers(plus2.to_headers(), _raw([]))
    assert decoded.time == plus2.time


def test_unrelated_headers_are_ignored() -> None:
    headers = [*_full().to_headers(), ("x-retry", b"\xff\xfe"), ("corps.dlq.reason", None)]
    assert Envelope.from_headers(headers, _raw(headers)).extensions == {"decisionid": "d-9"}


def test_format_time_remembers_an_object_not_an_instant() -> None:
    utc = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    plus2 = utc.astimezone(timezone(timedelta(hours=2)))  # equal to utc, written differently
    assert utc == plus2
    for moment, text in [
        (utc, b"2025-01-02T03:04:05Z"),
        (utc, b"2025-01-02T03:04:05Z"),
        (plus2, b"2025-01-02T05:04:05+02:00"),
        (utc, b"2025-01-02T03:04:05Z"),
    ]:
        assert format_time(moment) == text


def test_an_extension_is_read_even_when_a_known_header_has_no_value() -> None:
    base = Envelope.new("a.B", tenant="t", workflow_id="w", causation_id="c", step="s")
    headers = [*base.to_headers(), ("tracestate", None), ("ce_decisionid", b"d-1")]
    decoded = Envelope.from_headers(headers, _raw(headers))
    assert decoded.extensions == {"decisionid": "d-1"}
    assert decoded.tracestate is None
    plain = Envelope.from_headers(base.to_headers(), _raw([]))
    assert plain.extensions == {}
    assert "extensions" not in plain.model_fields_set
    assert plain == base


@pytest.mark.parametrize(
    "missing",
    [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "content-type",
        "ce_tenant",
        "ce_workflowid",
    ],
)
def test_each_missing_required_header_is_a_typed_error_carrying_the_record(missing: str) -> None:
    headers = [(n, v) for n, v in _full().to_headers() if n != missing]
    raw = _raw(list(headers))
    with pytest.raises(EnvelopeError, match=f"missing CloudEvents header\\(s\\) {missing}") as info:
        Envelope.from_headers(headers, raw)
    assert info.value.raw is raw
    assert info.value.reason == "bad-envelope"
    assert "orders[2]@17" in str(info.value)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("ce_specversion", b"0.3", "ce_specversion b'0.3' is not 1.0"),
        ("content-type", b"application/json", "content-type b'application/json' is not application/avro"),
        ("ce_time", b"yesterday", "ce_time: Input should be a valid datetime"),
        ("ce_time", b"2025-01-01T00:00:00", "ce_time: Input should have timezone info"),
        ("ce_id", b"\xff\xfe", "ce_id: Input should be a valid string"),
        ("ce_id", b"", "ce_id: String should have at least 1 character"),
        ("ce_type", b"not a type", "ce_type: String should match pattern"),
        ("ce_tenant", None, "ce_tenant: Input should be a valid string"),
        ("traceparent", b"00-xyz", "traceparent: String should match pattern"),
    ],
)
def test_garbled_headers_are_typed_errors(header: str, value: bytes | None, message: str) -> None:
    headers = [(n, v) for n, v in _full().to_headers() if n != header] + [(header, value)]
    with pytest.raises(EnvelopeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Envelope.from_headers(headers, _raw(headers))


def test_a_repeated_ce_header_is_an_error_but_repeated_foreign_headers_are_not() -> None:
    headers = _full().to_headers()
    with pytest.raises(EnvelopeError, match="header ce_tenant appears more than once"):
        Envelope.from_headers([*headers, ("ce_tenant", b"other")], _raw([]))
    Envelope.from_headers([*headers, ("x-a", b"1"), ("x-a", b"2")], _raw([]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tenant": ""}, "ce_tenant"),
        ({"tenant": "t", "traceparent": "nope"}, "traceparent"),
        ({"tenant": "t", "extensions": {"Bad-Name": "x"}}, "bad extension name"),
        ({"tenant": "t", "extensions": {"tenant": "x"}}, "bad extension name 'tenant'"),
        ({"tenant": "t", "time": datetime(2025, 1, 1)}, "timezone"),
    ],
)
def test_new_rejects_invalid_attributes(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEnvelopeError, match=message):
        Envelope.new("demo.support.TicketOpened", **kwargs)  # type: ignore[arg-type]


def test_new_rejects_a_type_that_is_not_an_avro_fullname() -> None:
    with pytest.raises(InvalidEnvelopeError, match="ce_type"):
        Envelope.new("demo support", tenant="t")


def test_caused_keeps_tenant_workflow_and_trace_and_links_the_cause() -> None:
    cause = _full()
    effect = cause.caused("demo.support.TicketTriaged", source="corps://triage", step="triage")
    assert (effect.tenant, effect.workflow_id, effect.traceparent) == (
        cause.tenant,
        cause.workflow_id,
        TRACEPARENT,
    )
    assert effect.causation_id == cause.id
    assert effect.id != cause.id
    assert effect.type == "demo.support.TicketTriaged"


def test_envelope_is_frozen() -> None:
    envelope = _full()
    with pytest.raises(ValueError, match="frozen"):
        envelope.tenant = "other"  # type: ignore[misc]


class _Str(str):
    """A str subclass: valid for the model, left to it by the fast path."""


NEW_CASES: list[dict[str, object]] = [
    {},
    {"causation_id": "c-1", "step": "triage", "traceparent": TRACEPARENT, "tracestate": "v=1"},
    {"tracestate": ""},
    {"source": "s" * 1024},
    {"source": "s" * 1025},
    {"tenant": ""},
    {"tenant": _Str("acme")},
    {"workflow_id": "w" * 1025},
    {"event_id": "e" * 1024},
    {"causation_id": ""},
    {"step": "x" * 1025},
    {"traceparent": "00-xyz"},
    {"traceparent": TRACEPARENT.upper()},
    {"traceparent": TRACEPARENT + "\n"},
    {"tracestate": "t" * 513},
    {"time": datetime(2025, 1, 1)},
    {"time": datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2)))},
    {"type": "a." + "b" * 511},
    {"type": "a." + "b" * 509},
    {"type": "1abc"},
    {"type": "a..b"},
    {"type": "a.b\n"},
    {"extensions": {"decisionid": "d"}},
]


@pytest.mark.parametrize("case", NEW_CASES, ids=lambda c: repr(c)[:50])
def test_new_checks_as_the_model_does(case: dict[str, object]) -> None:
    kwargs: dict[str, object] = {"tenant": "acme", "workflow_id": "wf-1", "source": "corps://t", **case}
    event_type = str(kwargs.pop("type", "demo.support.TicketOpened"))
    kwargs.setdefault("event_id", "e-1")
    kwargs.setdefault("time", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    values = {("id" if k == "event_id" else k): v for k, v in kwargs.items()}
    values["type"] = event_type
    try:
        expected: Envelope | None = Envelope.model_validate(values)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidEnvelopeError):
            Envelope.new(event_type, **kwargs)  # type: ignore[arg-type]
        return
    built = Envelope.new(event_type, **kwargs)  # type: ignore[arg-type]
    assert built == expected
    assert built.model_fields_set == expected.model_fields_set
    assert built.model_dump() == expected.model_dump()
    assert built.to_headers() == expected.to_headers()


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    import os

    new_id()  # the parent's pool holds ids now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = [new_id() for _ in range(200)]
    assert len(child) == 36
    assert child not in parent
