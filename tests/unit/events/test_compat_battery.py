"""The compatibility checker on a battery of schema changes, in every one of the seven modes.

Each case is a change from v1 to v2 with what Avro says about it: whether v2 can read v1 data
(backward) and whether v1 can read v2 data (forward). The expected verdict of each mode follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from corps.events import CompatibilityMode, check_versions
from corps.events.compatibility import required_pairs

M = CompatibilityMode


def rec(*fields: dict[str, Any], name: str = "Thing", aliases: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}
    if aliases:
        schema["aliases"] = aliases
    return schema


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(*symbols: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "enum", "name": "Color", "symbols": list(symbols)}
    if default is not None:
        schema["default"] = default
    return schema


def inner(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "Inner", "fields": list(fields)}


@dataclass(frozen=True)
class Case:
    id: str
    v1: dict[str, Any]
    v2: dict[str, Any]
    backward: bool  # v2 reads v1 data
    forward: bool  # v1 reads v2 data
    path: str | None = None  # field path named when incompatible


ID = f("id", "string")
CASES = [
    Case("field added with default", rec(ID), rec(ID, f("n", "int", default=0)), True, True),
    Case("field added without default", rec(ID), rec(ID, f("n", "int")), False, True, "n"),
    Case("field removed (had no default)", rec(ID, f("n", "int")), rec(ID), True, False, "n"),
    Case("field removed (had a default)", rec(ID, f("n", "int", default=0)), rec(ID), True, True),
    Case("int promoted to long", rec(f("n", "int")), rec(f("n", "long")), True, False, "n"),
    Case("long narrowed to int", rec(f("n", "long")), rec(f("n", "int")), False, True, "n"),
    Case("float promoted to double", rec(f("n", "float")), rec(f("n", "double")), True, False, "n"),
    Case("string to bytes", rec(f("n", "string")), rec(f("n", "bytes")), True, True),
    Case("string to int", rec(f("n", "string")), rec(f("n", "int")), False, False, "n"),
    Case(
        "enum symbol added, no enum default",
        rec(f("c", enum("R", "G"))),
        rec(f("c", enum("R", "G", "B"))),
        True,
        False,
        "c (symbols)",
    ),
    Case(
        "enum symbol added, old reader has enum default",
        rec(f("c", enum("R", "G", default="R"))),
        rec(f("c", enum("R", "G", "B", default="R"))),
        True,
        True,
    ),
    Case(
        "enum symbol removed, no enum default",
        rec(f("c", enum("R", "G", "B"))),
        rec(f("c", enum("R", "G"))),
        False,
        True,
        "c (symbols)",
    ),
    Case(
        "enum symbol removed, new reader has enum default",
        rec(f("c", enum("R", "G", "B"))),
        rec(f("c", enum("R", "G", default="R"))),
        True,
        True,
    ),
    Case(
        "union branch added",
        rec(f("u", ["null", "string"])),
        rec(f("u", ["null", "string", "int"])),
        True,
        False,
        "u",
    ),
    Case(
        "union branch removed",
        rec(f("u", ["null", "string", "int"])),
        rec(f("u", ["null", "string"])),
        False,
        True,
        "u (writer union branch 2)",
    ),
    Case(
        "type made optional",
        rec(f("n", "string")),
        rec(f("n", ["null", "string"], default=None)),
        True,
        False,
        "n",
    ),
    Case("field renamed without alias", rec(ID, f("a", "int")), rec(ID, f("b", "int")), False, False, "b"),
    Case(
        "field renamed with alias",
        rec(ID, f("a", "int")),
        rec(ID, f("b", "int", aliases=["a"])),
        True,
        False,
        "a",
    ),
    Case("record renamed without alias", rec(ID), rec(ID, name="Other"), False, False, "(record name)"),
    Case(
        "record renamed with alias",
        rec(ID),
        rec(ID, name="Other", aliases=["t.Thing"]),
        True,
        False,
        "(record name)",
    ),
    Case(
        "fixed size changed",
        rec(f("h", {"type": "fixed", "name": "H", "size": 16})),
        rec(f("h", {"type": "fixed", "name": "H", "size": 32})),
        False,
        False,
        "h (size)",
    ),
    Case(
        "nested record: field added without default",
        rec(f("in", inner(f("x", "int")))),
        rec(f("in", inner(f("x", "int"), f("y", "string")))),
        False,
        True,
        "in.y",
    ),
    Case(
        "nested record: field added with default",
        rec(f("in", inner(f("x", "int")))),
        rec(f("in", inner(f("x", "int"), f("y", "string", default="")))),
        True,
        True,
    ),
    Case(
        "array of records: item field added without default",
        rec(f("xs", {"type": "array", "items": inner(f("x", "int"))})),
        rec(f("xs", {"type": "array", "items": inner(f("x", "int"), f("y", "int"))})),
        False,
        True,
        "xs[].y",
    ),
    Case(
        "array of records: item field type changed",
        rec(f("xs", {"type": "array", "items": inner(f("x", "int"))})),
        rec(f("xs", {"type": "array", "items": inner(f("x", "string"))})),
        False,
        False,
        "xs[].x",
    ),
    Case(
        "map of records: value field added with default",
        rec(f("m", {"type": "map", "values": inner(f("x", "int"))})),
        rec(f("m", {"type": "map", "values": inner(f("x", "int"), f("y", "int", default=1))})),
        True,
        True,
    ),
    Case(
        "map of records: value field removed",
        rec(f("m", {"type": "map", "values": inner(f("x", "int"), f("y", "int"))})),
        rec(f("m", {"type": "map", "values": inner(f("x", "int"))})),
        True,
        False,
        "m{}.y",
    ),
    Case(
        "array became map",
        rec(f("xs", {"type": "array", "items": "int"})),
        rec(f("xs", {"type": "map", "values": "int"})),
        False,
        False,
        "xs",
    ),
]


def expected(case: Case, mode: CompatibilityMode) -> bool:
    if mode is M.NONE:
        return True
    if mode in (M.BACKWARD, M.BACKWARD_TRANSITIVE):
        return case.backward
    if mode in (M.FORWARD, M.FORWARD_TRANSITIVE):
        return case.forward
    return case.backward and case.forward


@pytest.mark.parametrize("mode", list(CompatibilityMode), ids=str)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_battery(case: Case, mode: CompatibilityMode) -> None:
    problems = check_versions("t.Thing", mode, [case.v1, case.v2])
    assert (not problems) is expected(case, mode), [p.describe() for p in problems]
    for problem in problems:
        assert problem.subject == "t.Thing"
        assert problem.mode is mode
        assert {problem.reader_version, problem.writer_version} == {1, 2}
        text = problem.describe()
        assert f"v{problem.reader_version} (reader) cannot read v{problem.writer_version} (writer)" in text
        assert f"required by {mode}" in text
        if case.path is not None and problem.reader_version == 2:
            assert case.path in problem.path, text


@pytest.mark.parametrize("case", [c for c in CASES if not c.backward], ids=lambda c: c.id)
def test_backward_failure_names_the_direction(case: Case) -> None:
    [problem, *_] = check_versions("t.Thing", M.BACKWARD, [case.v1, case.v2])
    assert (problem.reader_version, problem.writer_version) == (2, 1)


@pytest.mark.parametrize("case", [c for c in CASES if not c.forward], ids=lambda c: c.id)
def test_forward_failure_names_the_direction(case: Case) -> None:
    [problem, *_] = check_versions("t.Thing", M.FORWARD, [case.v1, case.v2])
    assert (problem.reader_version, problem.writer_version) == (1, 2)


def test_reasons_are_specific() -> None:
    [missing] = check_versions("t.Thing", M.BACKWARD, [rec(ID), rec(ID, f("n", "int"))])
    assert missing.kind == "reader_field_missing_default_value"
    assert missing.path == "n"
    [promo] = check_versions("t.Thing", M.FORWARD, [rec(f("n", "int")), rec(f("n", "long"))])
    assert promo.kind == "type_mismatch"
    assert "reader type: int not compatible with writer type: long" in promo.message
    [symbols] = check_versions("t.Thing", M.BACKWARD, [rec(f("c", enum("R", "B"))), rec(f("c", enum("R")))])
    assert symbols.kind == "missing_enum_symbols"
    assert "B" in symbols.message


# v1 -> v2 -> v3 where each step is fine but v1 and v3 are not: only the transitive modes catch it.
BACKWARD_CHAIN = [rec(ID), rec(ID, f("n", "int", default=0)), rec(ID, f("n", "int"))]
FORWARD_CHAIN = [rec(ID, f("n", "int")), rec(ID, f("n", "int", default=0)), rec(ID)]


@pytest.mark.parametrize(
    ("chain", "mode", "ok"),
    [
        (BACKWARD_CHAIN, M.BACKWARD, True),
        (BACKWARD_CHAIN, M.BACKWARD_TRANSITIVE, False),
        (BACKWARD_CHAIN, M.FULL_TRANSITIVE, False),
        (FORWARD_CHAIN, M.FORWARD, True),
        (FORWARD_CHAIN, M.FORWARD_TRANSITIVE, False),
        (FORWARD_CHAIN, M.FULL_TRANSITIVE, False),
        (BACKWARD_CHAIN, M.NONE, True),
    ],
)
def test_transitive_modes_check_every_earlier_version(chain: list[dict[str, Any]], mode: M, ok: bool) -> None:
    problems = check_versions("t.Thing", mode, chain)
    assert (not problems) is ok
    if not ok:
        assert {(p.reader_version, p.writer_version) for p in problems} <= {(3, 1), (1, 3)}


def test_required_pairs() -> None:
    assert required_pairs(M.NONE, 3) == []
    assert required_pairs(M.BACKWARD, 3) == [(2, 1), (3, 2)]
    assert required_pairs(M.FORWARD, 3) == [(1, 2), (2, 3)]
    assert required_pairs(M.FULL, 2) == [(2, 1), (1, 2)]
    assert sorted(required_pairs(M.BACKWARD_TRANSITIVE, 3)) == [(2, 1), (3, 1), (3, 2)]
    assert sorted(required_pairs(M.FORWARD_TRANSITIVE, 3)) == [(1, 2), (1, 3), (2, 3)]
    assert len(required_pairs(M.FULL_TRANSITIVE, 4)) == 12
    assert required_pairs(M.FULL_TRANSITIVE, 1) == []
