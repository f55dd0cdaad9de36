"""The CloudEvents 1.0 envelope, Kafka protocol binding, binary content mode.

Event metadata travels in Kafka headers (``ce_*`` plus ``content-type``); the value holds only the
Avro payload. corps adds the extensions ``ce_tenant``, ``ce_workflowid`` (also the message key, so one
workflow stays on one partition), ``ce_causationid`` and ``ce_step``, and carries W3C ``traceparent`` /
``tracestate`` as plain headers. Other ``ce_*`` headers round-trip as :attr:`Envelope.extensions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from corps.events.errors import EnvelopeError, InvalidEnvelopeError
from corps.events.headers import (
    CONTENT_TYPE,
    FULLNAME,
    HEADER_OF,
    KNOWN,
    OPTIONAL,
    REQUIRED,
    RESERVED_EXTENSIONS,
    TRACEPARENT,
    format_time,
    new_id,
    remember_time,
    text_ok,
    trace_ok,
    type_ok,
)
from corps.events.record import RawRecord

__all__ = ["CONTENT_TYPE", "Envelope", "new_id"]

_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()
_SPECVERSION_HEADER = ("ce_specversion", b"1.0")
_CONTENT_TYPE_HEADER = ("content-type", _CONTENT_TYPE_BYTES)
_NEW_FIELDS = frozenset(("id", "source", "type", "time", "tenant", "workflow_id"))
_TEXT_MAX = 1024  # the max_length of _Text
_set = object.__setattr__


_Text = Annotated[str, Field(min_length=1, max_length=1024)]


class Envelope(BaseModel):
    """CloudEvents attributes of one corps event (frozen; validated when built).

    Attributes:
        id: Unique event id (``ce_id``); a UUID4 by default.
        source: URI-reference of the producer (``ce_source``).
        type: Avro fullname of the payload, e.g. ``demo.support.TicketOpened`` (``ce_type``).
        time: When the event happened, time-zone aware (``ce_time``, RFC 3339).
        tenant: Tenant the workflow belongs to (``ce_tenant``).
        workflow_id: Workflow (correlation) id (``ce_workflowid``); also the message key.
        causation_id: ``ce_id`` of the event that caused this one, if any (``ce_causationid``).
        step: Topology step that emitted the event, if any (``ce_step``).
        traceparent: W3C trace context, if any.
        tracestate: W3C vendor trace state, if any.
        extensions: Further CloudEvents extensions, by attribute name without the ``ce_`` prefix.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: _Text
    source: _Text
    type: Annotated[str, Field(pattern=FULLNAME, max_length=512)]
    time: AwareDatetime
    datacontenttype: Literal["application/avro"] = "application/avro"
    tenant: _Text
    workflow_id: _Text
    causation_id: _Text | None = None
    step: _Text | None = None
    traceparent: Annotated[str, Field(pattern=TRACEPARENT)] | None = None
    tracestate: Annotated[str, Field(max_length=512)] | None = None
    extensions: Mapping[str, str] = Field(default_factory=dict)

    @field_validator("extensions")
    @classmethod
    def _check_extensions(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for name in value:
            if not _EXTENSION_NAME.match(name) or name in RESERVED_EXTENSIONS:
                raise ValueError(f"bad extension name {name!r} (a-z0-9, at most 20 chars, not reserved)")
        return value

    @classmethod
    def new(
        cls,
        event_type: str,
        *,
        tenant: str,
        workflow_id: str | None = None,
        source: str = "corps",
        causation_id: str | None = None,
        step: str | None = None,
        traceparent: str | None = None,
        tracestate: str | None = None,
        time: datetime | None = None,
        event_id: str | None = None,
        extensions: Mapping[str, str] | None = None,
    ) -> Envelope:
        """Build a fresh envelope: a new UUID4 id, ``time`` now (UTC) and a new workflow id if none.

        Raises:
            InvalidEnvelopeError: An attribute is invalid; the message names it.
        """
        event_id = event_id or new_id()
        workflow_id = workflow_id or new_id()
        time = time or datetime.now(UTC)
        if (
            not extensions
            and type_ok(event_type)
            and type(event_id) is str  # text_ok, inlined: this runs for every record produced
            and 0 < len(event_id) <= _TEXT_MAX
            and type(source) is str
            and 0 < len(source) <= _TEXT_MAX
            and type(tenant) is str
            and 0 < len(tenant) <= _TEXT_MAX
            and type(workflow_id) is str
            and 0 < len(workflow_id) <= _TEXT_MAX
            and type(time) is datetime
            and time.tzinfo is UTC
            and (causation_id is None or text_ok(causation_id))
            and (step is None or text_ok(step))
            and ((traceparent is None and tracestate is None) or trace_ok(traceparent, tracestate))
        ):  # the common case, checked as the model would check it (see corps.events.headers)
            values: dict[str, Any] = {
                "specversion": "1.0",
                "id": event_id,
                "source": source,
                "type": event_type,
                "time": time,
                "datacontenttype": CONTENT_TYPE,
                "tenant": tenant,
                "workflow_id": workflow_id,
                "causation_id": causation_id,
                "step": step,
                "traceparent": traceparent,
                "tracestate": tracestate,
                "extensions": {},
            }
            given = set(_NEW_FIELDS)
            if (
                causation_id is not None
                or step is not None
                or traceparent is not None
                or tracestate is not None
            ):
                given.update(name for name, _ in OPTIONAL if values[name] is not None)
            return cls._checked(values, given)
        values = {
            "id": event_id,
            "source": source,
            "type": event_type,
            "time": time,
            "tenant": tenant,
            "workflow_id": workflow_id,
        }
        optional = {
            "causation_id": causation_id,
            "step": step,
            "traceparent": traceparent,
            "tracestate": tracestate,
        }
        values.update({name: value for name, value in optional.items() if value is not None})
        if extensions:
            values["extensions"] = dict(extensions)
        try:
            return cls.__pydantic_validator__.validate_python(values)  # type: ignore[no-any-return]
        except ValidationError as exc:
            raise InvalidEnvelopeError(f"invalid envelope for {event_type}: {_summary(exc)}") from exc

    @classmethod
    def _checked(cls, values: dict[str, Any], given: set[str]) -> Envelope:
        """Build an instance from values already checked against the field constraints.

        ``values`` holds every field in declaration order, as the validator would store them;
        ``given`` the fields the caller set (the model's ``model_fields_set``).
        """
        envelope = cls.__new__(cls)
        _set(envelope, "__dict__", values)
        _set(envelope, "__pydantic_fields_set__", given)
        _set(envelope, "__pydantic_extra__", None)
        _set(envelope, "__pydantic_private__", None)
        return envelope

    def caused(self, event_type: str, *, source: str, step: str | None = None) -> Envelope:
        """Return the envelope of an event caused by this one: same tenant, workflow and trace."""
        return Envelope.new(
            event_type,
            tenant=self.tenant,
            workflow_id=self.workflow_id,
            source=source,
            causation_id=self.id,
            step=step,
            traceparent=self.traceparent,
            tracestate=self.tracestate,
        )

    @property
    def key(self) -> bytes:
        """The Kafka message key: the workflow id in UTF-8."""
        return self.workflow_id.encode()

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Return the binary-mode Kafka headers for this envelope."""
        headers = [
            _SPECVERSION_HEADER,
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", format_time(self.time)),
            _CONTENT_TYPE_HEADER,
            ("ce_tenant", self.tenant.encode()),
            ("ce_workflowid", self.workflow_id.encode()),
        ]
        if self.causation_id is not None:
            headers.append(("ce_causationid", self.causation_id.encode()))
        if self.step is not None:
            headers.append(("ce_step", self.step.encode()))
        if self.traceparent is not None:
            headers.append(("traceparent", self.traceparent.encode()))
        if self.tracestate is not None:
            headers.append(("tracestate", self.tracestate.encode()))
        if self.extensions:
            headers.extend((f"ce_{name}", value.encode()) for name, value in self.extensions.items())
        return headers

    @classmethod
    def from_headers(cls, headers: Sequence[tuple[str, bytes | None]], raw: RawRecord) -> Envelope:
        """Read and validate the envelope from Kafka headers.

        Headers that are neither ``ce_*``, ``content-type`` nor trace context are ignored.

        Raises:
            EnvelopeError: A required header is missing, repeated, not UTF-8 or invalid (carries ``raw``).
        """
        by_name = dict(headers)
        if len(by_name) != len(headers):
            _check_repeats(headers, raw)
        try:  # pydantic decodes the UTF-8 bytes itself (lax mode), and reports bad UTF-8 as a bad string
            values: dict[str, Any] = {
                "id": by_name["ce_id"],
                "source": by_name["ce_source"],
                "type": by_name["ce_type"],
                "time": by_name["ce_time"],
                "tenant": by_name["ce_tenant"],
                "workflow_id": by_name["ce_workflowid"],
            }
            specversion, content_type = by_name["ce_specversion"], by_name["content-type"]
        except KeyError:
            missing = ", ".join(sorted(REQUIRED - by_name.keys()))
            raise EnvelopeError(f"{raw.describe()}: missing CloudEvents header(s) {missing}", raw) from None
        if specversion != b"1.0":
            raise EnvelopeError(f"{raw.describe()}: ce_specversion {specversion!r} is not 1.0", raw)
        if content_type != _CONTENT_TYPE_BYTES:
            raise EnvelopeError(f"{raw.describe()}: content-type {content_type!r} is not {CONTENT_TYPE}", raw)
        if len(by_name) > len(REQUIRED):
            for field, header in OPTIONAL:
                value = by_name.get(header)
                if value is not None:
                    values[field] = value
            # every header known and set (the usual case) leaves no room for unknown ones
            if len(by_name) > len(values) + 2 and (unknown := by_name.keys() - KNOWN):
                values["extensions"] = {n[3:]: by_name[n] for n in unknown if n.startswith("ce_")}
        try:
            envelope: Envelope = cls.__pydantic_validator__.validate_python(values)
        except ValidationError as exc:
            raise EnvelopeError(
                f"{raw.describe()}: invalid CloudEvents header(s): {_summary(exc)}", raw
            ) from exc
        remember_time(envelope.time, values["time"])  # the gate writes it again in its decision record
        return envelope


def _check_repeats(headers: Sequence[tuple[str, bytes | None]], raw: RawRecord) -> None:
    seen: set[str] = set()
    for name, _ in headers:
        if name in seen and (name in KNOWN or name.startswith("ce_")):
            raise EnvelopeError(f"{raw.describe()}: header {name} appears more than once", raw)
        seen.add(name)


def _summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        header = HEADER_OF.get(where, where)
        parts.append(f"{header}: {err['msg']}")
    return "; ".join(parts)
