"""CEL expressions of policies: compiled once, checked at load time, evaluated against one event.

The binding is the PyPI package ``common-expression-language`` (import ``cel``; Rust cel-interpreter
underneath). Besides syntax, :func:`compile_expression` refuses what would otherwise only fail at run
time: variables other than ``event`` and ``context`` (comprehension variables and type names aside) and
functions the binding does not implement natively. No function reads a clock or randomness, so an
expression's value depends on its inputs alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cel

from corps.errors import ConfigurationError

__all__ = [
    "ROOTS",
    "CelProgram",
    "ExpressionError",
    "Needs",
    "Tree",
    "activation",
    "compile_expression",
    "needs_of",
]

ROOTS = frozenset({"event", "context"})
"""The variables an expression may use."""

# Functions the Rust binding implements natively (checked one by one against cel 0.10); the Python
# extension library (cel.stdlib) is not enabled: it would cost a callback per call.
_FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches",
        "int", "uint", "double", "string", "bytes", "dyn", "type", "duration", "timestamp",
        "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
        "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
_TYPE_NAMES = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
)
_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
_MACRO_VAR = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_STRING = re.compile(r"""(?:[rRbB]{0,2})("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


class ExpressionError(ConfigurationError):
    """A CEL expression is invalid.

    Attributes:
        line: 1-based line inside the expression.
        column: 1-based column inside the expression.
        detail: What is wrong, with the expression line and a caret under the position.
    """

    def __init__(self, message: str, line: int, column: int, detail: str) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CelProgram:
    """A compiled CEL expression.

    Attributes:
        source: The expression text.
        program: The binding's compiled program.
    """

    source: str
    program: Any

    def run(self, activation: Any) -> Any:
        """Evaluate against a ``cel.Context`` (or a dict); errors propagate as the binding raises them."""
        return self.program.execute(activation)


def _caret(source: str, line: int, column: int) -> str:
    lines = source.splitlines() or [""]
    text = lines[min(line, len(lines)) - 1]
    return f"| {text}\n| {'.' * (column - 1)}^"


def _locate(source: str, name: str, *, method: bool) -> tuple[int, int]:
    """Where identifier ``name`` is first used outside string literals (as a call if ``method``)."""
    blanked = _STRING.sub(lambda m: " " * len(m.group(0)), source)
    pattern = rf"(?<![\w.])\b{re.escape(name)}\b" if not method else rf"\b{re.escape(name)}\s*\("
    found = re.search(pattern, blanked)
    offset = found.start() if found else 0
    before = source[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def compile_expression(source: str) -> CelProgram:
    """Compile ``source``, refusing syntax errors, unknown variables and unknown functions.

    Raises:
        ExpressionError: With the 1-based line and column inside ``source``.
    """
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        if found is None:
            raise ExpressionError(f"invalid CEL: {text}", 1, 1, _caret(source, 1, 1)) from exc
        line, column = int(found.group(1)), int(found.group(2))
        message = found.group(3).strip()
        raise ExpressionError(message, line, column, _caret(source, line, column)) from exc
    refs = program.references()
    bound = set(_MACRO_VAR.findall(source))
    for name in refs["variables"]:
        if name not in ROOTS and name not in bound and name not in _TYPE_NAMES:
            line, column = _locate(source, name, method=False)
            raise ExpressionError(
                f"unknown variable {name!r} (an expression sees only `event` and `context`)",
                line,
                column,
                _caret(source, line, column),
            )
    for name in refs["functions"]:
        if name[0] in "_@!" or name in _FUNCTIONS:
            continue
        line, column = _locate(source, name, method=True)
        raise ExpressionError(
            f"unknown function {name!r} (available: {', '.join(sorted(_FUNCTIONS))} and the operators)",
            line,
            column,
            _caret(source, line, column),
        )
    return CelProgram(source=source, program=program)


Tree = tuple[tuple[str, "Tree | None"], ...]
"""The parts of a value an expression can reach: ``(name, subtree)`` pairs sorted by name, where a
subtree of ``None`` stands for the whole value under ``name``."""

_ROOT = re.compile(r"\b(event|context)\b")
_MEMBER = re.compile(r"\s*\.\s*([A-Za-z_]\w*)")
_CALL = re.compile(r"\s*\(")


def _paths(text: str, root: str) -> list[tuple[str, ...]] | None:
    """Member paths used after ``root`` in ``text`` (``None``: the whole value is used)."""
    found: list[tuple[str, ...]] = []
    for hit in _ROOT.finditer(text):
        if hit.group(1) != root:
            continue
        names: list[str] = []
        at = hit.end()
        while (member := _MEMBER.match(text, at)) is not None:
            names.append(member.group(1))
            at = member.end()
        if names and _CALL.match(text, at):
            names.pop()  # ``.name(``: a method or macro on the value before it
        if not names:
            return None
        found.append(tuple(names))
    return found


def _tree(paths: list[tuple[str, ...]] | None) -> Tree | None:
    if paths is None or any(not path for path in paths):
        return None
    heads: dict[str, list[tuple[str, ...]]] = {}
    for path in paths:
        heads.setdefault(path[0], []).append(path[1:])
    return tuple((name, _tree(rests)) for name, rests in sorted(heads.items()))


def _merge(a: Tree | None, b: Tree | None) -> Tree | None:
    if a is None or b is None:
        return None
    merged = dict(a)
    for name, sub in b:
        merged[name] = _merge(merged[name], sub) if name in merged else sub
    return tuple(sorted(merged.items()))


@dataclass(frozen=True, slots=True)
class Needs:
    """Which parts of ``event`` and ``context`` a set of expressions can reach.

    Converting values into CEL costs about 1 µs per string (and per map key), so the evaluator only
    hands over the member paths an expression names, down to the leaves (``event.data.customer.email``
    converts that one string of the customer). Member access in CEL is ``.name`` or ``[key]``; any use
    of a value other than ``.name`` (an index, a macro or method on it, a function argument, a
    comparison) asks for the whole of it, so the pruning can never hide a field an expression reads.

    Attributes:
        event: The paths of ``event`` used (``None``: all of it; ``()``: none).
        context: The ``context`` fields used (``None``: all of them).
    """

    event: Tree | None = ()
    context: frozenset[str] | None = frozenset()

    @property
    def counters(self) -> bool:
        """Whether ``context.counters`` is used."""
        return self.context is None or "counters" in self.context

    def merge(self, other: Needs) -> Needs:
        """What either of two needs asks for."""
        context = None if self.context is None or other.context is None else self.context | other.context
        return Needs(_merge(self.event, other.event), context)


def needs_of(source: str) -> Needs:
    """The parts of ``event`` and ``context`` that expression ``source`` can reach."""
    text = _STRING.sub(lambda m: " " * len(m.group(0)), source)
    context = _paths(text, "context")
    return Needs(_tree(_paths(text, "event")), None if context is None else frozenset(p[0] for p in context))


def activation(variables: dict[str, Any]) -> Any:
    """A reusable evaluation environment: the values are converted to CEL once, for every program run."""
    return cel.Context(variables=variables)
