"""Default locations follow XDG; the config is frozen and strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from corps.dev import StackConfig, default_cache_dir, default_home


def test_xdg_locations_win() -> None:
    env = {"XDG_STATE_HOME": "/s", "XDG_CACHE_HOME": "/c", "HOME": "/home/u"}
    assert default_home(env) == Path("/s/corps/dev")
    assert default_cache_dir(env) == Path("/c/corps")


def test_home_based_defaults() -> None:
    env = {"HOME": "/home/u", "XDG_STATE_HOME": " "}
    assert default_home(env) == Path("/home/u/.local/state/corps/dev")
    assert default_cache_dir(env) == Path("/home/u/.cache/corps")


def test_config_is_frozen_and_strict() -> None:
    config = StackConfig(home=Path("/h"), cache_dir=Path("/c"))
    assert (config.kafka_port, config.registry_port) == (9092, 8081)
    with pytest.raises(ValidationError):
        StackConfig(home=Path("/h"), cache_dir=Path("/c"), kafka_prot=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        config.kafka_port = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        StackConfig(home=Path("/h"), cache_dir=Path("/c"), kafka_heap="lots")
