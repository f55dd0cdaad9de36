"""The explicit benchmark list, ``--only`` selection and the scale knob (no broker involved)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bench.context import SCALES, BenchContext
from bench.registry import MODULES, select
from bench.results import Result


@dataclass
class _Module:
    ID: str
    NEEDS: tuple[str, ...] = ()
    TITLE: str = "test module"
    calls: list[str] = field(default_factory=list)

    def run(self, ctx: BenchContext) -> list[Result]:
        return []


def test_baselines_are_listed_in_order() -> None:
    assert [module.ID for module in MODULES][:4] == ["B1", "B2", "B3", "B4"]
    for module in MODULES:
        assert module.TITLE
        assert callable(module.run)


def test_select_everything_by_default() -> None:
    modules = [_Module("B1"), _Module("B2")]
    assert select(None, modules) == modules
    assert select([], modules) == modules


def test_select_keeps_list_order_and_adds_needs() -> None:
    b1, b3, b4, g2 = _Module("B1"), _Module("B3"), _Module("B4"), _Module("G2", NEEDS=("B4", "B3"))
    modules = [b1, b3, b4, g2]
    assert select(["G2"], modules) == [b3, b4, g2]
    assert select(["B4", "B1"], modules) == [b1, b4]


def test_select_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown benchmark id\(s\) B9; known: B1, B2"):
        select(["B9"], [_Module("B1"), _Module("B2")])


def test_select_need_missing_from_the_list() -> None:
    with pytest.raises(ValueError, match="G1 needs B7"):
        select(["G1"], [_Module("G1", NEEDS=("B7",))])


def test_scale_knob() -> None:
    small, full = SCALES["small"], SCALES["full"]
    assert full.count(500_000) == 500_000
    assert small.count(500_000) == 100_000
    assert small.count(2) == 1
    assert small.seconds(15.0) == pytest.approx(3.0)
    assert small.seconds(2.0) == 1.0


def test_unique_names_do_not_repeat() -> None:
    ctx = BenchContext(
        client_config={"bootstrap.servers": "127.0.0.1:1"}, registry_url="", scale=SCALES["small"]
    )
    names = {ctx.unique_name("t") for _ in range(100)}
    assert len(names) == 100
    assert all(name.startswith(f"bench-t-{ctx.run_id}-") for name in names)
    assert ctx.bootstrap_servers == "127.0.0.1:1"
