"""What corps' two Avro compilers share: source bookkeeping and turning generated source into functions.

:mod:`corps.events.avro_writer` and :mod:`corps.events.avro_reader` each walk a fastavro-parsed schema
and emit straight-line Python, one function per record type. The walking differs; the bookkeeping
(constants passed by name, fresh variable names, one function per named record) and the final
``exec`` are the same and live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PRIMITIVES", "SourceBuilder", "Unsupported", "build_functions"]

PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))
"""Avro's primitive type names."""


class Unsupported(Exception):
    """The schema uses something a compiler leaves to fastavro."""


class SourceBuilder:
    """Accumulates generated functions and the constants they refer to by name.

    Attributes:
        named: fastavro's ``__named_schemas`` of the schema being compiled.
        functions: Source text of each generated function.
        constants: Values the source refers to as ``_C<n>`` (never interpolated into the source).
        records: Full name of each record type -> the name of its generated function.
    """

    def __init__(self, named: Mapping[str, Any]) -> None:
        self.named = named
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.records: dict[str, str] = {}
        self.counter = 0

    def constant(self, value: Any) -> str:
        """The name under which the generated source reads ``value``."""
        name = f"_C{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        """A fresh local variable name."""
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, schema: Any, var: str) -> list[str]:
        """Lines for a value of type ``schema`` held in (writer) or read into (reader) ``var``.

        Resolves named types and dispatches to :meth:`primitive`, :meth:`union` and :meth:`composite`,
        which each compiler implements; logical types are left to fastavro.
        """
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return self.primitive(schema, var)
            if schema not in self.named:
                raise Unsupported(f"unknown named type {schema}")
            return self.emit(self.named[schema], var)
        if isinstance(schema, list):
            return self.union(schema, var)
        if "logicalType" in schema:
            raise Unsupported("logical type")
        kind = schema["type"]
        if kind in PRIMITIVES:
            return self.primitive(kind, var)
        return self.composite(kind, schema, var)

    def primitive(self, kind: str, var: str) -> list[str]:
        """Lines for a primitive value."""
        raise NotImplementedError

    def union(self, branches: list[Any], var: str) -> list[str]:
        """Lines for a union value."""
        raise NotImplementedError

    def composite(self, kind: str, schema: Mapping[str, Any], var: str) -> list[str]:
        """Lines for a record, enum, array, map or fixed value."""
        raise NotImplementedError

    def function_for(self, fullname: str) -> tuple[str, bool]:
        """The function name of a record type, and whether it still has to be generated."""
        if fullname in self.records:
            return self.records[fullname], False
        function = f"_record{len(self.records)}"
        self.records[fullname] = function
        return function, True


def build_functions(builder: SourceBuilder, helpers: Mapping[str, Any], label: str) -> dict[str, Any]:
    """Execute the builder's source with ``helpers`` and its constants in scope; return that namespace."""
    namespace: dict[str, Any] = {**helpers, **builder.constants}
    source = "\n\n".join(builder.functions)
    exec(compile(source, f"<{label}>", "exec"), namespace)  # noqa: S102 - generated from a parsed schema's structure; names and values are never interpolated, only indices
    return namespace
