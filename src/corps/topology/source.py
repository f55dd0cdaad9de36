"""YAML loading that remembers where every key and value sits (file, line, column).

PyYAML composes a node tree carrying start marks; we build the plain Python data ourselves from that
tree so we can record a mark for every key path, refuse duplicate keys (PyYAML silently keeps the last)
and resolve scalars the YAML 1.2 way for booleans (``on:``, ``yes`` and ``no`` stay strings; only
``true`` / ``false`` are booleans), which matters because ``on`` is a key of every step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corps.topology.diagnostics import Diagnostic, Location, Severity, TopologyError

__all__ = ["SourceMap", "load_yaml"]

KeyPath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only ``true`` / ``false`` (YAML 1.2 core schema)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class SourceMap:
    """Marks of one loaded file: for each key path, the 1-based (line, column) of its key."""

    file: Path
    marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Sequence[str | int]) -> Location:
        """The location of ``path``, or of its longest prefix present in the file."""
        parts = tuple(path)
        for end in range(len(parts), -1, -1):
            mark = self.marks.get(parts[:end])
            if mark is not None:
                return Location(file=self.file, line=mark[0], column=mark[1], key=_dotted(parts))
        return Location(file=self.file, line=1, column=1, key=_dotted(parts))


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _error(file: Path, code: str, message: str, mark: yaml.Mark | None, key: str = "") -> TopologyError:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    location = Location(file=file, line=line, column=column, key=key)
    return TopologyError([Diagnostic(severity=Severity.ERROR, code=code, message=message, location=location)])


class _Builder:
    def __init__(self, loader: _Loader, source: SourceMap) -> None:
        self._loader = loader
        self._source = source

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            self._loader.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._loader.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool):
                    raise _error(
                        self._source.file, "bad-key", "keys must be plain scalars", key_node.start_mark
                    )
                if key in result:
                    raise _error(
                        self._source.file,
                        "duplicate-key",
                        f"key {key!r} appears twice in this mapping",
                        key_node.start_mark,
                        _dotted((*path, str(key))),
                    )
                child = (*path, str(key))
                self._source.marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self._source.marks[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
                items.append(self.build(item, (*path, index)))
            return items
        return self._loader.construct_object(node, deep=True)


def load_yaml(text: str, file: Path) -> tuple[Any, SourceMap]:
    """Parse one YAML document and return its data with the marks of every key path.

    Raises:
        TopologyError: the text is not valid YAML, is empty, or repeats a key in a mapping.
    """
    source = SourceMap(file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise _error(file, "empty", "the file holds no YAML document", None)
        source.marks[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        data = _Builder(loader, source).build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _error(file, "yaml-syntax", f"{exc.problem or exc.context}", mark) from exc
    except yaml.YAMLError as exc:
        raise _error(file, "yaml-syntax", str(exc), None) from exc
    finally:
        loader.dispose()
    return data, source
