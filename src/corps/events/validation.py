"""Check a plain (JSON-like) value against an Avro schema, with messages that name the field.

fastavro's own validator reports the whole schema on a mismatch; this one says ``customer.email:
missing required field`` or ``channel: 'FAX' is not one of EMAIL, CHAT, PHONE, WEB``, which is what a
person fixing a JSONL file needs. Missing fields that have a default are fine (the writer fills them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["problems"]

_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_JSON_NAMES = {
    type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
    dict: "object", list: "array", bytes: "bytes",
}  # fmt: skip


def problems(schema: Any, value: Any, named: Mapping[str, Any] | None = None, path: str = "") -> list[str]:
    """Return what is wrong with ``value`` for ``schema`` (empty when it fits).

    Args:
        schema: A fastavro-parsed schema (named types are looked up in its ``__named_schemas``).
        value: The value, as ``json.loads`` returns it (or as a model's ``to_avro``).
        named: Named types by fullname (taken from ``schema`` when omitted).
        path: Field path of ``value`` (used in messages).
    """
    if named is None:
        named = schema.get("__named_schemas", {}) if isinstance(schema, Mapping) else {}
    where = path or "(root)"
    if isinstance(schema, str):
        if schema in named:
            return problems(named[schema], value, named, path)
        return _primitive(schema, value, where)
    if isinstance(schema, list):
        return _union(schema, value, named, path)
    kind = schema["type"]
    if kind == "record":
        return _record(schema, value, named, path)
    if kind == "enum":
        if isinstance(value, str) and value in schema["symbols"]:
            return []
        return [f"{where}: {_show(value)} is not one of {', '.join(schema['symbols'])}"]
    if kind == "array":
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            return [f"{where}: expected an array, got {_show(value)}"]
        return [
            p for i, item in enumerate(value) for p in problems(schema["items"], item, named, f"{path}[{i}]")
        ]
    if kind == "map":
        if not isinstance(value, Mapping):
            return [f"{where}: expected an object (map), got {_show(value)}"]
        found = [f"{where}: map key {k!r} is not a string" for k in value if not isinstance(k, str)]
        return found + [
            p for k, v in value.items() for p in problems(schema["values"], v, named, f"{path}{{{k}}}")
        ]
    if kind == "fixed":
        if isinstance(value, bytes) and len(value) == schema["size"]:
            return []
        return [f"{where}: expected {schema['size']} bytes (fixed), got {_show(value)}"]
    return _primitive(kind, value, where)


def _record(schema: Mapping[str, Any], value: Any, named: Mapping[str, Any], path: str) -> list[str]:
    where = path or "(root)"
    if not isinstance(value, Mapping):
        return [f"{where}: expected an object ({schema['name']}), got {_show(value)}"]
    found: list[str] = []
    fields = {field["name"]: field for field in schema["fields"]}
    found += [f"{_join(path, k)}: unknown field" for k in value if k not in fields]
    for name, field in fields.items():
        if name not in value:
            if "default" not in field:
                found.append(f"{_join(path, name)}: missing required field")
            continue
        found += problems(field["type"], value[name], named, _join(path, name))
    return found


def _union(branches: list[Any], value: Any, named: Mapping[str, Any], path: str) -> list[str]:
    results = [problems(branch, value, named, path) for branch in branches]
    if any(not r for r in results):
        return []
    non_null = [(b, r) for b, r in zip(branches, results, strict=True) if b != "null"]
    if value is not None and len(non_null) == 1:
        return non_null[0][1]
    names = " or ".join(_name(b) for b in branches)
    return [f"{path or '(root)'}: expected {names}, got {_show(value)}"]


def _primitive(kind: str, value: Any, where: str) -> list[str]:
    ok = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "long": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "double": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "bytes": isinstance(value, bytes),
    }.get(kind)
    if ok is None:
        return [f"{where}: unsupported schema type {kind!r}"]
    if not ok:
        return [f"{where}: expected {kind}, got {_show(value)}"]
    if kind in _RANGES:
        low, high = _RANGES[kind]
        if not low <= value <= high:
            return [f"{where}: {value} is out of range for Avro {kind}"]
    return []


def _name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema.rsplit(".", 1)[-1]
    if isinstance(schema, Mapping):
        return str(schema.get("name", schema.get("type")))
    return "union"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    kind = _JSON_NAMES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
