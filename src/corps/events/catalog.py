"""``schemas/``, the source of truth of event contracts, loaded and checked for shape.

Layout (see ``schemas/README.md``)::

    schemas/<avro fullname>/v1.avsc, v2.avsc, ...   one directory per event type (subject)
    schemas/<avro fullname>/subject.yaml            optional: ``compatibility: BACKWARD`` (the default)
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import avro.schema
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from corps.events.compatibility import CompatibilityMode
from corps.events.errors import SchemaCatalogError
from corps.events.model import SchemaRef

__all__ = ["CatalogSubject", "SchemaCatalog"]

_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")
_FULLNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
SUBJECT_FILE = "subject.yaml"


class _SubjectFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    compatibility: CompatibilityMode = CompatibilityMode.BACKWARD


@dataclass(frozen=True)
class CatalogSubject:
    """One event type with all its schema versions, oldest first.

    Attributes:
        event_type: Avro fullname (the directory name).
        compatibility: The subject's compatibility mode.
        versions: Schema versions 1..N in order.
        path: The subject's directory.
    """

    event_type: str
    compatibility: CompatibilityMode
    versions: tuple[SchemaRef, ...]
    path: Path

    @property
    def latest(self) -> SchemaRef:
        """The newest version."""
        return self.versions[-1]

    def version(self, number: int) -> SchemaRef:
        """Return version ``number`` (1-based).

        Raises:
            SchemaCatalogError: No such version.
        """
        if not 1 <= number <= len(self.versions):
            raise SchemaCatalogError(
                f"{self.event_type} has no version {number} (has 1..{len(self.versions)})"
            )
        return self.versions[number - 1]

    def version_file(self, number: int) -> Path:
        """Return the ``.avsc`` path of version ``number``."""
        return self.path / f"v{number}.avsc"


class SchemaCatalog(Mapping[str, CatalogSubject]):
    """All subjects of a ``schemas/`` directory, by event type (read-only mapping)."""

    def __init__(self, subjects: Mapping[str, CatalogSubject], root: Path) -> None:
        self._subjects = dict(sorted(subjects.items()))
        self.root = root

    @classmethod
    def load(cls, root: Path) -> SchemaCatalog:
        """Load and shape-check every subject under ``root``.

        Raises:
            SchemaCatalogError: The layout, a JSON file, an Avro schema or a ``subject.yaml`` is invalid;
                the message names the file.
        """
        if not root.is_dir():
            raise SchemaCatalogError(f"{root}: not a directory of schemas")
        subjects = {}
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") or child.is_file():
                continue
            subject = _load_subject(child)
            subjects[subject.event_type] = subject
        if not subjects:
            raise SchemaCatalogError(f"{root}: no subjects (expected <fullname>/v1.avsc)")
        return cls(subjects, root)

    def __getitem__(self, event_type: str) -> CatalogSubject:
        return self._subjects[event_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._subjects)

    def __len__(self) -> int:
        return len(self._subjects)

    def subject(self, event_type: str) -> CatalogSubject:
        """Return the subject of ``event_type``.

        Raises:
            SchemaCatalogError: Unknown event type; the message suggests close names.
        """
        try:
            return self._subjects[event_type]
        except KeyError:
            close = difflib.get_close_matches(event_type, list(self._subjects), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SchemaCatalogError(f"unknown event type {event_type!r} in {self.root}{hint}") from None


def _load_subject(directory: Path) -> CatalogSubject:
    name = directory.name
    if not _FULLNAME.match(name):
        raise SchemaCatalogError(f"{directory}: directory name must be an Avro fullname like ns.Name")
    numbers: dict[int, Path] = {}
    spec = _SubjectFile()
    for file in sorted(directory.iterdir()):
        if file.name == SUBJECT_FILE:
            spec = _load_subject_file(file)
        elif match := _VERSION_FILE.match(file.name):
            numbers[int(match.group(1))] = file
        elif not file.name.startswith(".") and file.name != "README.md":
            raise SchemaCatalogError(f"{file}: unexpected file (expected vN.avsc or {SUBJECT_FILE})")
    if not numbers:
        raise SchemaCatalogError(f"{directory}: no versions (expected v1.avsc)")
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        raise SchemaCatalogError(
            f"{directory}: versions must be v1..vN without gaps, found {sorted(numbers)}"
        )
    versions = tuple(_load_version(name, n, numbers[n]) for n in sorted(numbers))
    return CatalogSubject(name, spec.compatibility, versions, directory)


def _load_subject_file(file: Path) -> _SubjectFile:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        return _SubjectFile.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise SchemaCatalogError(f"{file}: {exc}") from exc


def _load_version(event_type: str, number: int, file: Path) -> SchemaRef:
    try:
        schema: Any = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaCatalogError(f"{file}: not readable JSON: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaCatalogError(f"{file}: an event schema must be an Avro record")
    fullname = schema.get("name", "")
    if "." not in fullname and schema.get("namespace"):
        fullname = f"{schema['namespace']}.{fullname}"
    if fullname != event_type:
        raise SchemaCatalogError(
            f"{file}: record fullname {fullname!r} differs from its directory {event_type!r}"
        )
    try:
        ref = SchemaRef(event_type, number, schema)
        avro.schema.parse(ref.canonical)
    except Exception as exc:  # fastavro and avro raise assorted exception types for bad schemas
        raise SchemaCatalogError(f"{file}: invalid Avro schema: {exc}") from exc
    return ref
