"""Registry subjects: how they are named, and how a catalog subject is registered (in order, idempotently)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from corps.events.catalog import CatalogSubject
from corps.events.errors import SchemaNotRegisteredError, SchemaRejectedError
from corps.events.registry import SchemaRegistry

__all__ = [
    "Registered",
    "SubjectNameStrategy",
    "default_topic",
    "register_subject",
    "topic_name_strategy",
    "topic_record_name_strategy",
]

SubjectNameStrategy = Callable[[str, str], str]
"""Maps ``(topic, event_type)`` to the registry subject of the record value."""


def topic_name_strategy(topic: str, event_type: str) -> str:
    """Confluent's TopicNameStrategy: one subject per topic, ``<topic>-value`` (the default)."""
    return f"{topic}-value"


def topic_record_name_strategy(topic: str, event_type: str) -> str:
    """Confluent's TopicRecordNameStrategy, ``<topic>-<fullname>``: several event types on one topic."""
    return f"{topic}-{event_type}"


def default_topic(event_type: str) -> str:
    """The topic of an event type when no topology maps it: the event type name itself."""
    return event_type


@dataclass(frozen=True)
class Registered:
    """One schema version as it stands in the registry after :func:`register_subject`.

    Attributes:
        subject: Registry subject.
        version: Version number in ``schemas/``.
        registry_version: Version number in the registry's subject.
        schema_id: Registry schema id (what the wire format carries).
        created: True when this call registered it, False when it was already there.
    """

    subject: str
    version: int
    registry_version: int
    schema_id: int
    created: bool


def register_subject(
    registry: SchemaRegistry, subject_name: str, subject: CatalogSubject
) -> list[Registered]:
    """Register every version of ``subject`` under ``subject_name``, oldest first, and set its mode.

    Idempotent: versions already registered are looked up, not registered again. The compatibility
    mode is set once version 1 exists (some registries refuse configuring an empty subject) and before
    version 2 is registered, so the registry itself enforces the mode on every later version.

    Raises:
        SchemaRejectedError: The registry refused a version, or an older version is missing while a
            newer one is present (registering it now would put it out of order).
        RegistryUnavailableError: The registry cannot be reached.
    """
    present: dict[int, tuple[int, int]] = {}
    for ref in subject.versions:
        try:
            present[ref.version] = registry.lookup(subject_name, ref.canonical)
        except SchemaNotRegisteredError:
            continue
    if present:
        missing_before = [
            v.version for v in subject.versions if v.version < max(present) and v.version not in present
        ]
        if missing_before:
            raise SchemaRejectedError(
                f"{subject_name}: v{max(present)} is registered but v{missing_before[0]} is not; "
                "registering it now would put it after a newer version "
                "(delete the subject or register under a new one)"
            )
    out = []
    for ref in subject.versions:
        created = ref.version not in present
        if created:
            registry.register(subject_name, ref.canonical)
            present[ref.version] = registry.lookup(subject_name, ref.canonical)
        schema_id, registry_version = present[ref.version]
        out.append(Registered(subject_name, ref.version, registry_version, schema_id, created))
        if ref.version == 1 and registry.compatibility(subject_name) is not subject.compatibility:
            registry.set_compatibility(subject_name, subject.compatibility)
    return out
