"""A per-schema Avro body reader compiled to straight-line Python, giving what fastavro's gives.

The counterpart of :mod:`corps.events.avro_writer` for reading a body with its own writer schema (no
schema resolution: the codec uses fastavro whenever the reader's schema differs from the writer's).
:func:`compile_reader` covers the writer's Avro subset plus unions of any branches, and returns
``None`` for the rest (logical types). A unit test holds its results to fastavro's for every schema
in ``schemas/`` and a battery of edge values, and checks that corrupt bodies fail.

A compiled reader is called as ``read(buf, pos)`` and returns ``(datum, end)``. A body that ends early
raises ``EOFError`` or ``IndexError`` (the codec reports a truncated body); one that cannot be valid
(a negative length, an enum or union index out of range, bad UTF-8, a boolean byte other than 0 or 1,
a varint longer than 10 bytes) raises ``ValueError`` (a malformed body).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from corps.events.avro_codegen import SourceBuilder, Unsupported, build_functions

__all__ = ["TRUNCATED", "AvroRead", "compile_reader"]

AvroRead = Callable[[bytes, int], tuple[dict[str, Any], int]]
"""Reads one record body from ``buf`` at ``pos``; returns the datum and the position after it."""

TRUNCATED: tuple[type[Exception], ...] = (EOFError, IndexError, struct.error)
"""What a compiled reader raises when the body ends early."""


def _long_tail(buf: bytes, pos: int, first: int) -> tuple[int, int]:
    """Finish a zig-zag varint whose first byte ``first`` (at ``pos - 1``) had the high bit set."""
    n = first & 0x7F
    shift = 7
    while True:
        byte = buf[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (n >> 1) ^ -(n & 1), pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


def compile_reader(parsed: Any) -> AvroRead | None:
    """Return a reader for a fastavro-parsed record schema, or ``None`` when it is not covered."""
    if not isinstance(parsed, Mapping) or parsed.get("type") != "record":
        return None
    generator = _Generator(parsed.get("__named_schemas", {}))
    try:
        entry = generator.record(parsed)
    except Unsupported:
        return None
    helpers = {
        "_long_tail": _long_tail,
        "_float": struct.Struct("<f").unpack_from,
        "_double": struct.Struct("<d").unpack_from,
    }
    read: AvroRead = build_functions(generator, helpers, f"avro reader {parsed.get('name')}")[entry]
    return read


class _Generator(SourceBuilder):
    def record(self, schema: Mapping[str, Any]) -> str:
        function, new = self.function_for(str(schema["name"]))
        if not new:
            return function
        body: list[str] = []
        names: list[str] = []
        for field in schema["fields"]:
            var = self.var()
            body += self.emit(field["type"], var)
            names.append(f"{self.constant(field['name'])}: {var}")
        lines = [
            f"def {function}(buf, pos):",
            *(f"    {line}" for line in body),
            f"    return {{{', '.join(names)}}}, pos",
        ]
        self.functions.append("\n".join(lines))
        return function

    def long(self, var: str) -> list[str]:
        """Lines that read a zig-zag varint into ``var``."""
        return [
            "b = buf[pos]",
            "pos += 1",
            "if b & 0x80:",
            f"    {var}, pos = _long_tail(buf, pos, b)",
            "else:",
            f"    {var} = (b >> 1) ^ -(b & 1)",
        ]

    def composite(self, kind: str, schema: Mapping[str, Any], var: str) -> list[str]:
        """Lines that read a record, enum, array, map or fixed value into ``var``."""
        if kind == "record":
            return [f"{var}, pos = {self.record(schema)}(buf, pos)"]
        if kind == "enum":
            symbols = self.constant(tuple(schema["symbols"]))
            return [
                *self.long("i"),
                f"if not 0 <= i < {len(schema['symbols'])}:",
                "    raise ValueError('enum index out of range')",
                f"{var} = {symbols}[i]",
            ]
        if kind == "fixed":
            return [
                f"end = pos + {int(schema['size'])}",
                "if end > len(buf):",
                "    raise EOFError('fixed')",
                f"{var} = buf[pos:end]",
                "pos = end",
            ]
        if kind in ("array", "map"):
            return self.block(schema, var)
        raise Unsupported(f"type {kind}")

    def primitive(self, kind: str, var: str) -> list[str]:
        if kind == "null":
            return [f"{var} = None"]
        if kind == "boolean":
            return [
                "b = buf[pos]",
                "pos += 1",
                "if b > 1:",
                "    raise ValueError('boolean byte not 0 or 1')",
                f"{var} = b == 1",
            ]
        if kind in ("int", "long"):
            return self.long(var)
        if kind in ("float", "double"):
            size = 4 if kind == "float" else 8
            return [f"{var}, = _{kind}(buf, pos)", f"pos += {size}"]
        data = "buf[pos:end].decode()" if kind == "string" else "buf[pos:end]"
        return [
            *self.long("n"),
            "if n < 0:",
            "    raise ValueError('negative length')",
            "end = pos + n",
            "if end > len(buf):",
            "    raise EOFError('string or bytes')",
            f"{var} = {data}",
            "pos = end",
        ]

    def union(self, branches: list[Any], var: str) -> list[str]:
        lines = self.long("i")
        for index, branch in enumerate(branches):
            lines.append(f"{'if' if index == 0 else 'elif'} i == {index}:")
            lines += [f"    {line}" for line in self.emit(branch, var)]
        lines += ["else:", "    raise ValueError('union index out of range')"]
        return lines

    def block(self, schema: Mapping[str, Any], var: str) -> list[str]:
        count, item, key = self.var(), self.var(), self.var()
        if schema["type"] == "array":
            start, body = f"{var} = []", [*self.emit(schema["items"], item), f"{var}.append({item})"]
        else:
            body = [
                *self.primitive("string", key),
                *self.emit(schema["values"], item),
                f"{var}[{key}] = {item}",
            ]
            start = f"{var} = {{}}"
        return [
            start,
            "while True:",
            *(f"    {line}" for line in self.long(count)),
            f"    if {count} == 0:",
            "        break",
            f"    if {count} < 0:",  # a negative count is followed by the block's size in bytes
            f"        {count} = -{count}",
            *(f"        {line}" for line in self.long("size")),
            f"    for _ in range({count}):",
            *(f"        {line}" for line in body),
        ]
