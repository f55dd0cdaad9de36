"""Redactions checked against the events' Avro schemas before a set is published or tested.

The gate re-encodes a redacted payload with the writer's schema; a redaction that does not fit it
(``remove`` of a field without a default, ``mask`` of a value whose type takes neither the mask text
nor null) would only show at run time, as a denied event. :func:`check_redactions` finds those at
``corps policy apply`` / ``corps policy test`` / ``corps topology validate`` time, for every schema
version of every event type a redact policy matches, and names the policy file, the policy, the field
path and the schema. A path that none of the matched schemas has is refused too (a typo would
otherwise silently redact nothing).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corps.events.catalog import SchemaCatalog
from corps.events.errors import SchemaCatalogError
from corps.policy.models import Policy, Redact
from corps.policy.policy_set import PolicySet
from corps.topology import Diagnostic, Location, Severity, Topology

__all__ = ["SchemaVersion", "catalog_versions", "check_redactions", "schema_versions"]

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One version of one event type's schema.

    Attributes:
        fullname: The Avro fullname (``ce_type``).
        version: Its number in ``schemas/``.
        schema: The schema as JSON.
    """

    fullname: str
    version: int
    schema: Mapping[str, Any]


def catalog_versions(catalog: SchemaCatalog, fullnames: Iterable[str] | None = None) -> list[SchemaVersion]:
    """Every version of the catalog's subjects (only ``fullnames`` when given and known)."""
    names = sorted(catalog) if fullnames is None else sorted(n for n in set(fullnames) if n in catalog)
    return [SchemaVersion(name, ref.version, ref.schema) for name in names for ref in catalog[name].versions]


def schema_versions(root: Path, topology: Topology | None = None) -> list[SchemaVersion] | None:
    """The schema versions in ``schemas/`` directory ``root`` (``None``: no readable catalog there).

    With a ``topology``, only its events' schemas and the ``corps.lifecycle`` ones.
    """
    if not root.is_dir():
        return None
    try:
        catalog = SchemaCatalog.load(root)
    except SchemaCatalogError:
        return None
    if topology is None:
        return catalog_versions(catalog)
    names = [topology.schema_fullname(event) for event in topology.events]
    return catalog_versions(catalog, [*names, *(n for n in catalog if n.startswith("corps.lifecycle."))])


@dataclass(frozen=True, slots=True)
class _Leaf:
    kind: str  # "field" (a record field), "item" (an array item), "value" (a map value)
    type: Any
    field: Mapping[str, Any] | None


def _named_types(schema: Any, namespace: str, out: dict[str, Any]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, namespace, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            name = str(schema["name"])
            space = str(schema.get("namespace", namespace)) if "." not in name else name.rpartition(".")[0]
            full = name if "." in name else f"{space}.{name}" if space else name
            out[full] = schema
            out.setdefault(name.rpartition(".")[2], schema)
            namespace = space
            for field in schema.get("fields", ()) if kind in ("record", "error") else ():
                _named_types(field["type"], namespace, out)
        elif kind == "array":
            _named_types(schema["items"], namespace, out)
        elif kind == "map":
            _named_types(schema["values"], namespace, out)
        elif isinstance(kind, dict | list):
            _named_types(kind, namespace, out)


def _deref(schema: Any, named: Mapping[str, Any]) -> Any:
    if isinstance(schema, str) and schema not in _PRIMITIVES:
        return named.get(schema, schema)
    if isinstance(schema, dict) and isinstance(schema.get("type"), str | list | dict):
        inner = schema["type"]
        if inner not in ("record", "error", "enum", "fixed", "array", "map"):
            return _deref(inner, named)  # {"type": "string", "logicalType": ...} and the like
    return schema


def _leaves(schema: Any, parts: Sequence[str], named: Mapping[str, Any]) -> list[_Leaf]:
    """What ``parts`` addresses inside a value of type ``schema`` (every union branch followed)."""
    schema = _deref(schema, named)
    if isinstance(schema, list):
        return [leaf for branch in schema for leaf in _leaves(branch, parts, named)]
    if not isinstance(schema, dict):
        return []
    head, rest = parts[0], parts[1:]
    kind = schema.get("type")
    found: list[_Leaf] = []
    if kind in ("record", "error"):
        for field in schema.get("fields", ()):
            if head in ("*", field["name"]):
                found += (
                    _leaves(field["type"], rest, named) if rest else [_Leaf("field", field["type"], field)]
                )
    elif kind == "map":
        found += _leaves(schema["values"], rest, named) if rest else [_Leaf("value", schema["values"], None)]
    elif kind == "array" and head == "*":
        found += _leaves(schema["items"], rest, named) if rest else [_Leaf("item", schema["items"], None)]
    return found


def _accepts(schema: Any, named: Mapping[str, Any], avro_type: str) -> bool:
    schema = _deref(schema, named)
    if isinstance(schema, list):
        return any(_accepts(branch, named, avro_type) for branch in schema)
    return bool(schema == avro_type)


def _only_strings(schema: Any, named: Mapping[str, Any]) -> bool:
    schema = _deref(schema, named)
    if isinstance(schema, list):
        return all(_only_strings(branch, named) for branch in schema)
    return bool(schema == "string")


def _type_text(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("name") or schema.get("type"))
    if isinstance(schema, list):
        return "[" + ", ".join(_type_text(s) for s in schema) + "]"
    return str(schema)


def _problem(leaf: _Leaf, rule: Redact, named: Mapping[str, Any]) -> str | None:
    """Why redacting ``leaf`` under ``rule`` cannot be re-encoded (``None``: it can)."""
    if rule.mode == "remove" and leaf.kind == "field":
        if leaf.field is not None and "default" not in leaf.field:
            return (
                "has no default, so removing it cannot be re-encoded (give it a default, or use mode: mask)"
            )
        return None
    if leaf.kind == "value" and rule.mode == "remove":
        return None  # a map entry is deleted: any map may lose a key
    # masked: a string becomes the mask text, anything else null
    if _only_strings(leaf.type, named) or _accepts(leaf.type, named, "null"):
        return None
    what = (
        "masking it writes null"
        if not _accepts(leaf.type, named, "string")
        else "a non-string is masked to null"
    )
    return f"has type {_type_text(leaf.type)}: {what}, which the type does not allow (make it nullable)"


def _matches(policy: Policy, fullname: str) -> bool:
    events = policy.match.events
    if not events:
        return True
    short = fullname.rpartition(".")[2]
    return any(fnmatch.fnmatchcase(fullname if "." in p else short, p) for p in events)


def check_redactions(
    policy_set: PolicySet, origins: Mapping[str, Location], schemas: Sequence[SchemaVersion]
) -> list[Diagnostic]:
    """Every redaction of ``policy_set`` that a matched event schema cannot re-encode.

    Args:
        policy_set: The set to check.
        origins: Where each policy is defined (its file and line), to name in the findings.
        schemas: The schema versions events may be written with (a redaction must fit each).

    Returns:
        One error per (policy, field path, schema version) that does not fit, and one per path that
        no matched schema has (only for policies that name their events).
    """
    found: list[Diagnostic] = []
    for policy in policy_set.policies:
        rule = policy.redact
        if rule is None:
            continue
        where = origins.get(policy.id) or Location(file=Path(), line=1, column=1, key=policy.id)
        matched = [s for s in schemas if _matches(policy, s.fullname)]
        for index, path in enumerate(rule.fields):
            seen = False
            for version in matched:
                named: dict[str, Any] = {}
                _named_types(version.schema, "", named)
                leaves = _leaves(version.schema, path.split("."), named)
                seen = seen or bool(leaves)
                for leaf in leaves:
                    why = _problem(leaf, rule, named)
                    if why is not None:
                        message = (
                            f"policy {policy.id}: redact.fields[{index}] {path!r} of "
                            f"{version.fullname} v{version.version} {why}"
                        )
                        found.append(_error("redact-schema", message, where))
                        break
            if matched and not seen and policy.match.events:
                names = ", ".join(sorted({s.fullname for s in matched}))
                message = (
                    f"policy {policy.id}: redact.fields[{index}] {path!r} is in none of its events' "
                    f"schemas ({names})"
                )
                found.append(_error("redact-unknown-field", message, where))
    return found


def _error(code: str, message: str, location: Location) -> Diagnostic:
    return Diagnostic(severity=Severity.ERROR, code=code, message=message, location=location)
