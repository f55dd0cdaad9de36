"""The service's collector policy: threshold while running, freeze per batch, periodic full collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from corps.orchestrator.heap import HeapPolicy


class _Node:
    """A container that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _clean_gc() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def _cycle() -> _Node:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a


def test_enter_sets_the_threshold_and_exit_restores_it() -> None:
    before = gc.get_threshold()
    policy = HeapPolicy(123_456, freeze=True, full_every_s=600)
    policy.enter()
    assert gc.get_threshold() == (123_456, *before[1:])
    policy.committed()
    assert gc.get_freeze_count() > 0
    policy.exit()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_frozen_cycle_survives_collections_until_the_full_one() -> None:
    policy = HeapPolicy(None, freeze=True, full_every_s=600)
    policy.enter()
    node = _cycle()
    alive = weakref.ref(node)
    policy.committed()  # frozen while still referenced
    del node  # now garbage, but only a cycle: reference counting cannot free it
    gc.collect()
    survived = alive() is not None  # (no temporary reference: pytest's assert would keep one)
    assert survived  # the permanent generation is never scanned
    policy.full_every_s = 0.0
    policy.committed()  # due: unfreeze, collect, freeze
    assert alive() is None
    assert policy.full_collections == 1
    policy.exit()


def test_without_freeze_nothing_is_frozen() -> None:
    policy = HeapPolicy(None, freeze=False, full_every_s=0.0)
    policy.enter()
    policy.committed()
    assert gc.get_freeze_count() == 0
    assert policy.full_collections == 0
    policy.exit()
