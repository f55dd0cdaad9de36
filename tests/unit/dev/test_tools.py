"""Finding java and mvn, and saying what to install when they are missing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from corps.dev import ToolMissingError
from corps.dev.tools import find_tool, parse_java_major, require_java


def _nothing(name: str, path: str | None) -> str | None:
    return None


@pytest.mark.parametrize(("tool", "hint"), [("java", "openjdk-17"), ("mvn", "maven")])
def test_missing_tool_says_what_to_install(tool: str, hint: str) -> None:
    with pytest.raises(ToolMissingError) as failure:
        find_tool(tool, which=_nothing)
    message = str(failure.value)
    assert f"`{tool}` was not found" in message
    assert hint in message
    assert "KAFKA_BOOTSTRAP_SERVERS" in message  # the other way out


def test_search_path_is_honoured(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ToolMissingError, match=str(empty)):
        find_tool("java", search_path=str(empty))
    exe = _script(tmp_path / "bin" / "java", "exit 0")
    assert find_tool("java", search_path=str(exe.parent)) == exe


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_292"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "11.0.2"', 11),
        ("command not found", None),
    ],
)
def test_java_major_version(output: str, major: int | None) -> None:
    assert parse_java_major(output) == major


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_old_java_is_refused(tmp_path: Path) -> None:
    java = _script(tmp_path / "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2")
    with pytest.raises(ToolMissingError, match=r"needs Java 17\+"):
        require_java(java)


def test_java_17_is_accepted(tmp_path: Path) -> None:
    java = _script(tmp_path / "java", "echo 'openjdk version \"17.0.15\" 2025-04-15' >&2")
    assert require_java(java) == 17
