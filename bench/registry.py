"""The explicit list of benchmark modules (no autodiscovery) and the selection behind ``--only``.

A later issue adds its corps figures by writing ``bench/gN_<name>.py`` with ``ID``, ``TITLE``, ``NEEDS``
and ``run(ctx) -> list[Result]``, and appending the module to :data:`MODULES`. ``NEEDS`` names the
baselines whose figures its ratios use, so ``--only G2`` also runs B4 in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bench import (
    b1_produce,
    b2_consume,
    b3_latency,
    b4_relay,
    g1_codec,
    g2_agent_hop,
    g3_choreography,
    g5_orchestrator,
    g6_replay,
    g7_policy,
    g8_delivery,
)
from bench.context import BenchContext
from bench.results import Result

__all__ = ["MODULES", "BenchModule", "select"]


class BenchModule(Protocol):
    """What a benchmark module provides (a module object satisfies this protocol)."""

    ID: str
    TITLE: str
    NEEDS: tuple[str, ...]

    def run(self, ctx: BenchContext) -> list[Result]:
        """Measure and return this benchmark's figures; every id starts with ``<ID>.``."""
        ...


MODULES: tuple[BenchModule, ...] = (
    b1_produce,
    b2_consume,
    b3_latency,
    b4_relay,
    g1_codec,
    g2_agent_hop,
    g3_choreography,
    g5_orchestrator,
    g6_replay,
    g7_policy,
    g8_delivery,
)


def select(only: Sequence[str] | None, modules: Sequence[BenchModule] = MODULES) -> list[BenchModule]:
    """Return the modules to run, in list order: all of them, or those in ``only`` plus what they need.

    Raises:
        ValueError: ``only`` names an id no module has (the message lists the known ids).
    """
    by_id = {module.ID: module for module in modules}
    if not only:
        return list(modules)
    unknown = [name for name in only if name not in by_id]
    if unknown:
        raise ValueError(f"unknown benchmark id(s) {', '.join(unknown)}; known: {', '.join(by_id)}")
    wanted: set[str] = set()
    pending = list(only)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted.add(name)
        for need in by_id[name].NEEDS:
            if need not in by_id:
                raise ValueError(f"benchmark {name} needs {need}, which is not in the module list")
            pending.append(need)
    return [module for module in modules if module.ID in wanted]
