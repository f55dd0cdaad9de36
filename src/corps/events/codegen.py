"""Generate the typed event models from ``schemas/`` (the latest version of each subject).

Run ``python -m corps.events.codegen [SCHEMAS_DIR]`` after changing a schema; it rewrites
``src/corps/events/lifecycle.py`` and ``src/corps/events/demo.py``. A unit test regenerates both in
memory and fails when the files are stale, so the models always match the ``.avsc`` files.
"""

from __future__ import annotations

import keyword
import pprint
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from corps.events.catalog import SchemaCatalog
from corps.events.errors import SchemaCatalogError

__all__ = ["MODULES", "generate_module", "main"]

MODULES: dict[str, str] = {"corps.lifecycle": "lifecycle", "demo.support": "demo"}
"""Avro namespace -> module of :mod:`corps.events` that holds its models."""

_PRIMITIVES = {
    "boolean": "bool", "int": "AvroInt", "long": "AvroLong", "float": "float", "double": "float",
    "bytes": "bytes", "string": "str", "null": "None",
}  # fmt: skip
_RESERVED = set(dir(BaseModel)) | {"event_type", "schema_version", "avro_schema"}


class _Module:
    """Accumulates the type aliases and classes of one generated module."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.named: dict[str, tuple[str, Any]] = {}  # fullname -> (python name, definition)
        self.blocks: list[str] = []
        self.exports: list[str] = []
        self.events: list[str] = []

    def type_of(self, schema: Any, where: str) -> str:
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return str(_PRIMITIVES[schema])
            fullname = schema if "." in schema else f"{self.namespace}.{schema}"
            if fullname not in self.named:
                raise SchemaCatalogError(f"{where}: unknown named type {schema}")
            return str(self.named[fullname][0])
        if isinstance(schema, list):
            branches = [self.type_of(s, where) for s in schema]
            if sum(1 for b in branches if b != "None") > 1:
                raise SchemaCatalogError(f"{where}: codegen supports only unions of null and one type")
            return " | ".join(b for b in branches if b != "None") + (" | None" if "None" in branches else "")
        if "logicalType" in schema:
            raise SchemaCatalogError(f"{where}: logical types are not supported by codegen")
        kind = schema["type"]
        if kind in _PRIMITIVES:
            return str(_PRIMITIVES[kind])
        if kind == "array":
            return f"tuple[{self.type_of(schema['items'], where + '[]')}, ...]"
        if kind == "map":
            return f"dict[str, {self.type_of(schema['values'], where + '{}')}]"
        if kind == "fixed":
            return "bytes"
        if kind in ("enum", "record"):
            return self.define(schema, where)
        raise SchemaCatalogError(f"{where}: unsupported Avro type {kind!r}")

    def define(self, schema: Mapping[str, Any], where: str, *, event: tuple[str, int] | None = None) -> str:
        name = str(schema["name"]).rsplit(".", 1)[-1]
        namespace = schema.get("namespace") or (
            schema["name"].rsplit(".", 1)[0] if "." in schema["name"] else ""
        )
        fullname = f"{namespace or self.namespace}.{name}"
        if (namespace or self.namespace) != self.namespace:
            raise SchemaCatalogError(f"{where}: {fullname} is outside namespace {self.namespace}")
        if fullname in self.named:
            if _without_docs(self.named[fullname][1]) != _without_docs(schema):
                raise SchemaCatalogError(f"{where}: {fullname} is defined differently in two schemas")
            return name
        self.named[fullname] = (name, schema)
        doc = schema.get("doc", name)
        if schema["type"] == "enum":
            symbols = ", ".join(f'"{s}"' for s in schema["symbols"])
            self.blocks.append(f"{name} = Literal[{symbols}]\n{_docstring(doc, 0)}")
        else:
            self.blocks.append(self._record(name, schema, doc, where, event))
        self.exports.append(name)
        return name

    def _record(
        self, name: str, schema: Mapping[str, Any], doc: str, where: str, event: tuple[str, int] | None
    ) -> str:
        lines = []
        if event is None:
            lines += [f"class {name}(BaseModel):", _docstring(doc, 4), "", "    model_config = _FROZEN", ""]
        else:
            event_type, version = event
            schema_text = pprint.pformat(dict(schema), sort_dicts=False, width=100)
            lines += [
                f"class {name}(EventModel):",
                _docstring(doc, 4, f"Event type ``{event_type}``, schema version {version}."),
                "",
                f'    event_type: ClassVar[str] = "{event_type}"',
                f"    schema_version: ClassVar[int] = {version}",
                f"    avro_schema: ClassVar[Mapping[str, Any]] = {schema_text}",
                "",
            ]
        for field in schema["fields"]:
            fname = field["name"]
            if keyword.iskeyword(fname) or fname in _RESERVED or fname.startswith("_"):
                raise SchemaCatalogError(f"{where}.{fname}: field name clashes with Python or pydantic")
            annotation = self.type_of(field["type"], f"{where}.{fname}")
            default = _default(field, annotation, f"{where}.{fname}")
            lines.append(f"    {fname}: {annotation}{default}")
            lines.append(_docstring(field.get("doc", fname), 4))
        return "\n".join(lines)


def _docstring(text: str, indent: int, extra: str | None = None) -> str:
    """Render ``text`` as a docstring: first sentence as the summary line, the rest wrapped."""
    pad = " " * indent
    summary, _, rest = text.partition(". ")
    summary = summary if summary.endswith((".", "!", "?")) else summary + "."
    paragraphs = [p for p in (rest, extra) if p]
    if not paragraphs and len(pad) + len(summary) + 6 <= 110:
        return f'{pad}"""{summary}"""'
    lines = textwrap.wrap(summary, 104 - indent) or [""]
    for paragraph in paragraphs:
        lines += ["", *textwrap.wrap(paragraph, 106 - indent)]
    body = "\n".join(f"{pad}{line}" if line else "" for line in lines[1:])
    return f'{pad}"""{lines[0]}\n{body}\n{pad}"""'


def _without_docs(schema: Any) -> Any:
    if isinstance(schema, Mapping):
        return {k: _without_docs(v) for k, v in schema.items() if k != "doc"}
    if isinstance(schema, list):
        return [_without_docs(v) for v in schema]
    return schema


def _default(field: Mapping[str, Any], annotation: str, where: str) -> str:
    if "default" not in field:
        return ""
    value = field["default"]
    if value is None:
        return " = None"
    if isinstance(value, list):
        return " = ()" if not value else f" = {tuple(value)!r}"
    if isinstance(value, dict):
        if value:
            raise SchemaCatalogError(f"{where}: only empty record/map defaults are supported by codegen")
        return " = Field(default_factory=dict)"
    if isinstance(value, str):
        return f' = "{value}"' if '"' not in value else f" = {value!r}"
    return f" = {value!r}"


def generate_module(catalog: SchemaCatalog, namespace: str) -> str:
    """Return the formatted source of the models module for ``namespace``."""
    module = _Module(namespace)
    for event_type, subject in catalog.items():
        if event_type.rsplit(".", 1)[0] == namespace:
            ref = subject.latest
            module.events.append(module.define(ref.schema, event_type, event=(event_type, ref.version)))
    header = f'''"""Event models of the ``{namespace}`` namespace: generated from ``schemas/``, do not edit.

Regenerate with ``python -m corps.events.codegen`` after changing a schema; a unit test fails when
this file no longer matches the ``.avsc`` files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from corps.events.model import AvroInt, AvroLong, EventModel

__all__ = {sorted([*module.exports, "EVENTS"])!r}

_FROZEN = ConfigDict(frozen=True, extra="forbid")
'''
    events = ", ".join(module.events)
    body = "\n\n\n".join(module.blocks)
    footer = (
        f'EVENTS: tuple[type[EventModel], ...] = ({events},)\n"""Every event model of ``{namespace}``."""\n'
    )
    return _ruff_format(f"{header}\n\n{body}\n\n\n{footer}")


def _ruff_format(source: str) -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    fixed = subprocess.run(
        [ruff, "check", "--fix-only", "--quiet", "--stdin-filename", "generated.py", "-"],
        input=source, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return subprocess.run(
        [ruff, "format", "--quiet", "--stdin-filename", "generated.py", "-"],
        input=fixed or source, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Regenerate the models modules from ``SCHEMAS_DIR`` (default ``schemas``)."""
    args = sys.argv[1:] if argv is None else argv
    catalog = SchemaCatalog.load(Path(args[0] if args else "schemas"))
    package = Path(__file__).parent
    for namespace, module in MODULES.items():
        target = package / f"{module}.py"
        target.write_text(generate_module(catalog, namespace), encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
