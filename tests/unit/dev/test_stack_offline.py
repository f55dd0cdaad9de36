"""LocalStack without a broker: what it reports and refuses before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from corps.dev import LocalStack, ProvisionError, StackConfig, ToolMissingError


def _stack(tmp_path: Path) -> LocalStack:
    config = StackConfig(
        home=tmp_path / "home", cache_dir=tmp_path / "cache", search_path=str(tmp_path / "nothing")
    )
    return LocalStack(config, which=lambda name, path: None)


def test_missing_java_stops_up_before_anything_starts(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    stack = LocalStack(
        StackConfig(home=tmp_path / "home", cache_dir=tmp_path / "cache"),
        which=lambda name, path: None,
        progress=lambda *step: seen.append(step),
    )
    with pytest.raises(ToolMissingError, match="`java` was not found"):
        stack.up()
    assert not stack.status().kafka.running
    assert not (tmp_path / "home" / "kafka").exists()
    assert seen[0] == ("checking java", 0, 5)


def test_status_of_a_fresh_home(tmp_path: Path) -> None:
    status = _stack(tmp_path).status()
    assert not status.running
    assert status.info is None
    assert status.kafka.pid is None
    assert status.kafka.log == tmp_path / "home" / "kafka" / "kafka.log"


def test_down_of_a_fresh_home_stops_nothing(tmp_path: Path) -> None:
    assert _stack(tmp_path).down() == []
    assert _stack(tmp_path).down(purge=True) == []


def test_restart_needs_a_started_stack(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError, match="never started"):
        _stack(tmp_path).restart_kafka()


def test_purge_recovers_from_a_corrupt_state(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    (tmp_path / "home" / "kafka" / "data").mkdir(parents=True)
    (tmp_path / "home" / "state.json").write_text("garbage")
    with pytest.raises(ProvisionError, match="corrupt"):
        stack.down()
    assert stack.down(purge=True) == []
    assert not (tmp_path / "home" / "state.json").exists()
    assert not (tmp_path / "home" / "kafka").exists()
