"""Deterministic sample payloads for any Avro record schema (shared with the integration tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corps.events import EventModel


def sample_datum(schema: Any, seed: int = 1, named: dict[str, Any] | None = None, name: str = "x") -> Any:
    """Return a value valid for ``schema`` that exercises every field (optional ones filled in)."""
    named = {} if named is None else named
    if isinstance(schema, str):
        if schema in named:
            return sample_datum(named[schema], seed, named, name)
        return {
            "null": None,
            "boolean": seed % 2 == 1,
            "int": seed,
            "long": 2**40 + seed,
            "float": 0.5,
            "double": 0.25 + seed,
            "bytes": b"\x00\x01",
            "string": f"{name}-{seed}",
        }[schema]
    if isinstance(schema, list):
        branch = next(b for b in schema if b != "null")
        return sample_datum(branch, seed, named, name)
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        fullname = (
            schema["name"] if "." in schema["name"] else f"{schema.get('namespace', '')}.{schema['name']}"
        )
        named[fullname.lstrip(".")] = schema
        named[schema["name"]] = schema
    if kind == "record":
        return {f["name"]: sample_datum(f["type"], seed, named, f["name"]) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][seed % len(schema["symbols"])]
    if kind == "array":
        return [sample_datum(schema["items"], seed + i, named, name) for i in range(2)]
    if kind == "map":
        return {f"k{i}": sample_datum(schema["values"], seed + i, named, name) for i in range(2)}
    if kind == "fixed":
        return bytes(schema["size"])
    return sample_datum(kind, seed, named, name)


def sample_event(model: type[EventModel], seed: int = 1) -> EventModel:
    """Return an instance of ``model`` with every field set."""
    return model.from_avro(sample_datum(dict(model.avro_schema), seed))


def without_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a sample datum that leaves out every field that has a default."""
    datum = sample_datum(dict(schema))
    return {f["name"]: datum[f["name"]] for f in schema["fields"] if "default" not in f}
