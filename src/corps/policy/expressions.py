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

__all__ = ["ROOTS", "CelProgram", "ExpressionError", "Needs", "activation", "compile_expression", "needs_of"]

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


# ``event`` not followed by ``.name``, or followed by ``.name(`` (a macro or method on the map itself).
_EVENT_BARE = re.compile(r"\bevent\b(?!\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())")
_EVENT_FIELD = re.compile(r"\bevent\s*\.\s*([A-Za-z_]\w*)")
_DATA_BARE = re.compile(r"\bevent\s*\.\s*data\b(?!\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())")
_DATA_FIELD = re.compile(r"\bevent\s*\.\s*data\s*\.\s*([A-Za-z_]\w*)")
_COUNTERS = re.compile(r"\bcontext\b(?!\s*\.\s*(?:now|age)\b)")


@dataclass(frozen=True, slots=True)
class Needs:
    """Which parts of ``event`` and ``context`` a set of expressions can reach.

    Converting values into CEL costs about 2 µs per field, so the evaluator only hands over the fields
    an expression names (``None``: all of them). Member access in CEL is ``.name`` or ``[key]``; any use
    of ``event`` or ``event.data`` other than ``.name`` (an index, a macro over the map, a function
    argument) asks for the whole value, so the pruning can never hide a field an expression reads.

    Attributes:
        event_fields: Top-level ``event`` fields used, or ``None`` for all.
        data_fields: Top-level ``event.data`` fields used, or ``None`` for all.
        counters: Whether ``context.counters`` (or ``context`` as a whole) is used.
    """

    event_fields: frozenset[str] | None = frozenset()
    data_fields: frozenset[str] | None = frozenset()
    counters: bool = False

    def merge(self, other: Needs) -> Needs:
        """What either of two needs asks for."""

        def union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
            return None if a is None or b is None else a | b

        return Needs(
            union(self.event_fields, other.event_fields),
            union(self.data_fields, other.data_fields),
            self.counters or other.counters,
        )


def needs_of(source: str) -> Needs:
    """The parts of ``event`` and ``context`` that expression ``source`` can reach."""
    text = _STRING.sub(lambda m: " " * len(m.group(0)), source)
    event_fields = None if _EVENT_BARE.search(text) else frozenset(_EVENT_FIELD.findall(text))
    whole_data = event_fields is None or _DATA_BARE.search(text) is not None
    data_fields = None if whole_data else frozenset(_DATA_FIELD.findall(text))
    if event_fields is not None and data_fields is None:
        event_fields |= {"data"}
    return Needs(event_fields, data_fields, bool(_COUNTERS.search(text)))


def activation(variables: dict[str, Any]) -> Any:
    """A reusable evaluation environment: the values are converted to CEL once, for every program run."""
    return cel.Context(variables=variables)
