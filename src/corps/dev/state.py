"""The stack's state file: which pids and ports the services of one stack home use.

Written atomically (temp file + rename) so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from corps.dev.errors import ProvisionError

__all__ = ["KafkaState", "RegistryState", "StackState", "load_state", "save_state"]

STATE_FILE = "state.json"
_MODEL = ConfigDict(frozen=True, extra="forbid")


class KafkaState(BaseModel):
    """The broker of a stack home: process, ports, version and cluster id."""

    model_config = _MODEL

    pid: int | None = None
    port: int
    controller_port: int
    version: str
    cluster_id: str
    secure_port: int | None = None
    sasl_users: dict[str, str] = {}


class RegistryState(BaseModel):
    """The schema registry of a stack home: process, port and the version it reported."""

    model_config = _MODEL

    pid: int | None = None
    port: int
    version: str


class StackState(BaseModel):
    """Everything remembered about a stack home between commands."""

    model_config = _MODEL

    host: str = "127.0.0.1"
    kafka: KafkaState | None = None
    registry: RegistryState | None = None


def load_state(home: Path) -> StackState:
    """Read ``home/state.json``; a missing file is an empty state.

    Raises:
        ProvisionError: The file exists but is not a valid state (names the file and how to recover).
    """
    path = home / STATE_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StackState()
    except OSError as exc:
        raise ProvisionError(f"cannot read the stack state {path}: {exc}") from exc
    try:
        return StackState.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise ProvisionError(
            f"the stack state {path} is corrupt ({exc.__class__.__name__}: {str(exc).splitlines()[0]}); "
            "stop any java processes of this stack and delete the file, or run `corps dev down --purge`"
        ) from exc


def save_state(home: Path, state: StackState) -> None:
    """Write ``home/state.json`` atomically."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / STATE_FILE
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
