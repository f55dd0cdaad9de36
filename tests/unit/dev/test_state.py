"""The stack's state file: round trip, atomic write, clear error when corrupt."""

from __future__ import annotations

from pathlib import Path

import pytest

from corps.dev import ProvisionError
from corps.dev.state import KafkaState, RegistryState, StackState, load_state, save_state


def test_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "nowhere") == StackState()


def test_round_trip(tmp_path: Path) -> None:
    state = StackState(
        kafka=KafkaState(pid=11, port=9092, controller_port=9093, version="4.4.0", cluster_id="abc"),
        registry=RegistryState(pid=None, port=8081, version="3.0.9"),
    )
    save_state(tmp_path / "home", state)
    assert load_state(tmp_path / "home") == state
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["state.json"]  # no temp file left


@pytest.mark.parametrize("content", ["{not json", '{"kafka": {"port": "x"}}', '{"unknown": 1}'])
def test_corrupt_file_is_named_with_a_way_out(tmp_path: Path, content: str) -> None:
    (tmp_path / "state.json").write_text(content)
    with pytest.raises(ProvisionError) as failure:
        load_state(tmp_path)
    assert str(tmp_path / "state.json") in str(failure.value)
    assert "corps dev down --purge" in str(failure.value)
