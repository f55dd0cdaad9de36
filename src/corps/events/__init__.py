"""Event contracts: typed payloads, the CloudEvents envelope, the Avro codec and the schema registry.

Typical use::

    codec = EventCodec(SchemaRegistry(settings.registry))
    record = codec.encode(topic, TicketOpened(...), Envelope.new(TicketOpened.event_type, tenant="acme"))
    event = codec.decode(RawRecord.from_message(msg), TicketOpened)

The error leaves live in :mod:`corps.events.errors`; the generated models in
:mod:`corps.events.lifecycle` (corps' own lifecycle events) and :mod:`corps.events.demo` (the demo
support domain).
"""

from corps.events.catalog import CatalogSubject, SchemaCatalog
from corps.events.codec import Event, EventCodec
from corps.events.compatibility import CompatibilityMode, Incompatibility, check_versions
from corps.events.envelope import Envelope
from corps.events.errors import (
    BrokerUnavailableError,
    DecodeError,
    EnvelopeError,
    EventError,
    EventValidationError,
    RecordError,
    RegistryError,
    RegistryUnavailableError,
)
from corps.events.model import AvroInt, AvroLong, EventModel, SchemaRef, models_by_type
from corps.events.producer import DeliveryReport, EventProducer
from corps.events.record import OutgoingRecord, RawRecord
from corps.events.registry import SchemaRegistry
from corps.events.subjects import (
    Registered,
    default_topic,
    register_subject,
    topic_name_strategy,
    topic_record_name_strategy,
)

__all__ = [
    "AvroInt",
    "AvroLong",
    "BrokerUnavailableError",
    "CatalogSubject",
    "CompatibilityMode",
    "DecodeError",
    "DeliveryReport",
    "Envelope",
    "EnvelopeError",
    "Event",
    "EventCodec",
    "EventError",
    "EventModel",
    "EventProducer",
    "EventValidationError",
    "Incompatibility",
    "OutgoingRecord",
    "RawRecord",
    "RecordError",
    "Registered",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaCatalog",
    "SchemaRef",
    "SchemaRegistry",
    "check_versions",
    "default_topic",
    "models_by_type",
    "register_subject",
    "topic_name_strategy",
    "topic_record_name_strategy",
]
