"""The errors of the event layer, all under :class:`corps.errors.CorpsError`.

Two families matter to callers:

* :class:`RecordError` and its leaves describe one consumed record that cannot be turned into an
  event (bad wire format, unknown schema, missing or garbled CloudEvents headers). Each carries the
  untouched :class:`~corps.events.record.RawRecord` and a short, stable ``reason`` so the runtime can
  dead-letter it with the reason in a header.
* :class:`RegistryError` and its leaves describe the schema registry. :class:`RegistryUnavailableError`
  is retriable and is *not* a record error: a record whose schema cannot be fetched because the
  registry is down is not poison.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corps.errors import ConfigurationError, CorpsError, ServiceUnavailableError

if TYPE_CHECKING:
    from corps.events.record import RawRecord

__all__ = [
    "BrokerUnavailableError",
    "DecodeError",
    "DeliveryError",
    "EnvelopeError",
    "EventError",
    "EventValidationError",
    "IncompatibleSchemaError",
    "InvalidEnvelopeError",
    "MalformedBodyError",
    "RecordError",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaCatalogError",
    "SchemaNotRegisteredError",
    "SchemaRejectedError",
    "TruncatedBodyError",
    "UnexpectedEventTypeError",
    "UnknownMagicByteError",
    "UnknownSchemaIdError",
]


class EventError(CorpsError):
    """Root of the errors raised by :mod:`corps.events`."""


class SchemaCatalogError(EventError, ConfigurationError):
    """The ``schemas/`` directory is malformed (layout, JSON, Avro or ``subject.yaml``)."""


class EventValidationError(EventError, ValueError):
    """A payload does not match its Avro schema; ``path`` names the offending field."""

    def __init__(self, message: str, *, event_type: str, path: str = "") -> None:
        super().__init__(message)
        self.event_type = event_type
        self.path = path


class InvalidEnvelopeError(EventError, ValueError):
    """An envelope being built for producing is invalid (a programming or input error)."""


class RegistryError(EventError):
    """The schema registry answered with an error.

    Attributes:
        status: HTTP status, or ``None`` when no answer came.
        code: The registry's own error code (Confluent API), or ``None``.
    """

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RegistryUnavailableError(RegistryError, ServiceUnavailableError):
    """The schema registry cannot be reached or failed on its side (5xx); retry later."""


class SchemaRejectedError(RegistryError):
    """The registry refused a schema: incompatible with the subject's history (409) or invalid (422)."""


class SchemaNotRegisteredError(RegistryError):
    """The subject, or this exact schema in the subject, is not registered."""


class BrokerUnavailableError(EventError, ServiceUnavailableError):
    """The Kafka cluster cannot be reached (no broker answered in time)."""


class DeliveryError(EventError):
    """Kafka did not acknowledge a produced record (after the producer's own retries)."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class RecordError(EventError):
    """A consumed record cannot become an event; dead-letter it.

    Attributes:
        raw: The record exactly as consumed.
        reason: A short stable code for the dead-letter header (e.g. ``unknown-magic-byte``).
    """

    reason: str = "record-error"

    def __init__(self, message: str, raw: RawRecord) -> None:
        super().__init__(message)
        self.raw = raw


class DecodeError(RecordError):
    """The record value is not a decodable Confluent-framed Avro body."""

    reason = "decode-error"


class UnknownMagicByteError(DecodeError):
    """The value does not start with the Confluent magic byte 0 (or is empty)."""

    reason = "unknown-magic-byte"


class UnknownSchemaIdError(DecodeError):
    """The schema id in the value is not known to the registry."""

    reason = "unknown-schema-id"


class TruncatedBodyError(DecodeError):
    """The value ends before the Avro body does."""

    reason = "truncated-body"


class MalformedBodyError(DecodeError):
    """The Avro body is not valid for its writer schema (bad union index, bytes left over, bad UTF-8)."""

    reason = "malformed-body"


class IncompatibleSchemaError(DecodeError):
    """The reader's schema cannot read what the writer's schema wrote."""

    reason = "incompatible-schema"


class EnvelopeError(RecordError):
    """CloudEvents headers are missing or garbled, or disagree with the message key."""

    reason = "bad-envelope"


class UnexpectedEventTypeError(EnvelopeError):
    """The record's ``ce_type`` is not one the reader accepts."""

    reason = "unexpected-event-type"
