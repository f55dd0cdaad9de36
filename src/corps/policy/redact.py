"""Redaction of field paths in an event's data, copy-on-write (the input is never changed).

A path is dotted: ``customer.email``; ``*`` stands for every item of a list or every value of a map
(``items.*.card_number``). Paths that are absent from the data are skipped. The concrete paths that
were redacted are reported with list indexes (``items[0].card_number``), in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = ["redact"]

_ABSENT = object()


def redact(
    data: Mapping[str, Any],
    paths: Iterable[str],
    *,
    mode: Literal["mask", "remove"],
    mask_text: str,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return a redacted copy of ``data`` and the concrete paths redacted.

    ``mask`` replaces strings with ``mask_text`` and other values with ``None``; ``remove`` deletes the
    key (a list item addressed by ``*`` is masked instead, since removing it would shift the others).
    """
    result: Any = dict(data)
    done: list[str] = []
    for path in paths:
        result = _apply(result, path.split("."), "", mode, mask_text, done)
    return result, tuple(done)


def _masked(value: Any, mask_text: str) -> Any:
    return mask_text if isinstance(value, str) else None


def _join(prefix: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{prefix}[{part}]"
    return f"{prefix}.{part}" if prefix else part


def _apply(node: Any, parts: list[str], prefix: str, mode: str, mask_text: str, done: list[str]) -> Any:
    head, rest = parts[0], parts[1:]
    if isinstance(node, Mapping):
        keys = sorted(node) if head == "*" else [head]
        copy: dict[str, Any] | None = None
        for key in keys:
            child = node.get(key, _ABSENT)
            if child is _ABSENT:
                continue
            where = _join(prefix, key)
            if rest:
                new = _apply(child, rest, where, mode, mask_text, done)
                if new is child:
                    continue
            else:
                new = _ABSENT if mode == "remove" else _masked(child, mask_text)
                done.append(where)
            copy = dict(node) if copy is None else copy
            if new is _ABSENT:
                del copy[key]
            else:
                copy[key] = new
        return node if copy is None else copy
    if isinstance(node, list | tuple) and head == "*":
        items: list[Any] | None = None
        for index, child in enumerate(node):
            where = _join(prefix, index)
            if rest:
                new = _apply(child, rest, where, mode, mask_text, done)
                if new is child:
                    continue
            else:
                new = _masked(child, mask_text)
                done.append(where)
            items = list(node) if items is None else items
            items[index] = new
        return node if items is None else items
    return node
