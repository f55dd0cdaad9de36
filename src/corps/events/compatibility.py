"""Schema evolution rules: which versions of a subject must read which, checked with Avro's own checker.

A subject's versions are checked as they would have been registered, oldest first: each new version
``k`` against the previous one (``BACKWARD``, ``FORWARD``, ``FULL``) or against every earlier one (the
``*_TRANSITIVE`` modes). ``BACKWARD`` means the new version, as reader, reads data written with the
old; ``FORWARD`` means the old reads the new; ``FULL`` both; ``NONE`` checks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

__all__ = ["CompatibilityMode", "Incompatibility", "check_pair", "check_versions", "required_pairs"]


class CompatibilityMode(StrEnum):
    """The seven compatibility modes of the Confluent registry API."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"


@dataclass(frozen=True)
class Incompatibility:
    """One reason why ``reader_version`` cannot read data written with ``writer_version``.

    Attributes:
        subject: Event type (subject) checked.
        mode: The subject's compatibility mode that required this pair.
        reader_version: Version reading.
        writer_version: Version that wrote the data.
        kind: Avro's incompatibility type, e.g. ``reader_field_missing_default_value``.
        path: Field path in the reader schema, e.g. ``customer.email`` or ``tags[]`` (``/`` for the root).
        location: Avro's raw JSON-pointer location.
        message: Avro's message.
    """

    subject: str
    mode: CompatibilityMode
    reader_version: int
    writer_version: int
    kind: str
    path: str
    location: str
    message: str

    def describe(self) -> str:
        """Return a one-line explanation naming subject, versions, field path and reason."""
        return (
            f"{self.subject}: v{self.reader_version} (reader) cannot read v{self.writer_version} (writer), "
            f"required by {self.mode}: at {self.path}: {self.kind.replace('_', ' ')}: {self.message}"
        )


def required_pairs(mode: CompatibilityMode, count: int) -> list[tuple[int, int]]:
    """Return the (reader, writer) version pairs ``mode`` requires for versions ``1..count``."""
    pairs: list[tuple[int, int]] = []
    if mode is CompatibilityMode.NONE:
        return pairs
    transitive = mode.name.endswith("_TRANSITIVE")
    backward = mode.name.startswith(("BACKWARD", "FULL"))
    forward = mode.name.startswith(("FORWARD", "FULL"))
    for new in range(2, count + 1):
        for old in range(1 if transitive else new - 1, new):
            if backward:
                pairs.append((new, old))
            if forward:
                pairs.append((old, new))
    return pairs


def check_pair(reader: Mapping[str, Any], writer: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """Check whether ``reader`` can read data written with ``writer``.

    Returns:
        One ``(kind, path, location, message)`` per incompatibility; empty when compatible.
    """
    reader_schema = avro.schema.parse(json.dumps(reader))
    writer_schema = avro.schema.parse(json.dumps(writer))
    result = ReaderWriterCompatibilityChecker().get_compatibility(  # type: ignore[no-untyped-call]
        reader_schema, writer_schema
    )
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    by_kind: dict[str, list[str]] = {}
    for message in sorted(result.messages):
        by_kind.setdefault(_kind_of_message(message), []).append(message)
    # Compatible sub-results merged into an incompatible one leave a bare "/" location behind.
    locations = sorted(result.locations - {"/"}) or ["/"]
    out = []
    for location in locations:
        kind = _kind_of_location(location, by_kind)
        messages = by_kind.get(kind) or ["incompatible"]
        message = messages.pop(0) if len(messages) > 1 else messages[0]
        out.append((kind, _field_path(reader_schema, location), location, message))
    return out


def _kind_of_message(message: str) -> str:
    # avro's result keeps kinds, locations and messages in separate sets; re-pair them by their shapes.
    if message.startswith("reader type:"):
        return "type_mismatch"
    if message.startswith("reader union lacking"):
        return "missing_union_branch"
    if message.startswith("expected:"):
        return "fixed_size_mismatch" if ", found:" in message else "name_mismatch"
    if message.startswith("{"):
        return "missing_enum_symbols"
    return "reader_field_missing_default_value"


def _kind_of_location(location: str, by_kind: Mapping[str, list[str]]) -> str:
    last = location.rsplit("/", 2)
    if location.endswith("/name"):
        return "name_mismatch"
    if location.endswith("/size"):
        return "fixed_size_mismatch"
    if location.endswith("/symbols"):
        return "missing_enum_symbols"
    if len(last) == 3 and last[1] == "fields" and last[2].isdigit():
        return "reader_field_missing_default_value"
    if last[-1].isdigit():
        return "missing_union_branch"
    if "type_mismatch" in by_kind or "missing_union_branch" not in by_kind:
        return "type_mismatch"
    return "missing_union_branch"


def check_versions(
    subject: str, mode: CompatibilityMode, versions: Sequence[Mapping[str, Any]]
) -> list[Incompatibility]:
    """Check a subject's versions (oldest first) under ``mode``; return every incompatibility found."""
    problems = []
    for reader, writer in required_pairs(mode, len(versions)):
        for kind, path, location, message in check_pair(versions[reader - 1], versions[writer - 1]):
            problems.append(Incompatibility(subject, mode, reader, writer, kind, path, location, message))
    return problems


def _field_path(schema: avro.schema.Schema, location: str) -> str:
    """Translate Avro's location (``/fields/1/type/items/...``) into field names of the reader schema."""
    parts: list[str] = []
    node: Any = schema
    segments = [s for s in location.split("/") if s]
    i = 0
    try:
        while i < len(segments):
            seg = segments[i]
            if seg == "fields" and i + 1 < len(segments):
                field = node.fields[int(segments[i + 1])]
                parts.append(("." if parts else "") + field.name)
                node = field.type
                i += 2
                continue
            if seg == "items":
                parts.append("[]")
                node = node.items
            elif seg == "values":
                parts.append("{}")
                node = node.values
            elif seg.isdigit():
                parts.append(f" (writer union branch {seg})")
            elif seg in {"name", "size", "symbols"}:
                parts.append(f" ({seg})" if parts else f"(record {seg})")
            i += 1
    except (AttributeError, IndexError, ValueError):
        return location
    return "".join(parts) or "/"
