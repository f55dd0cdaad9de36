"""Fixtures of the replay integration tests: a fresh topology per test with a log the gate wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.replay.replay_kafka import KafkaLog, make_log

from corps.dev import StackInfo


@pytest.fixture
def fresh_log(
    stack: StackInfo,
    admin: AdminClient,
    kafka_config: dict[str, str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> Iterator[KafkaLog]:
    """A provisioned topology and an (empty) log maker on the real registry."""
    log = make_log(stack, admin, kafka_config, tmp_path, unique)
    yield log
    log.registry.close()


@pytest.fixture
def four(fresh_log: KafkaLog) -> KafkaLog:
    """Completed (wf-1), compensated (wf-2), timed out (wf-3) and failed (wf-4) workflows, not yet written."""
    maker = fresh_log.maker
    maker.happy("wf-1")
    maker.compensated("wf-2", 10)
    maker.timed_out("wf-3", 30, partition=1)
    maker.failed("wf-4", 60, partition=1)
    return fresh_log
