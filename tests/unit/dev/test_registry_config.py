"""The registry's command line and distribution layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from corps.dev.registry import find_runner, registry_command


def test_file_database_that_survives_kill() -> None:
    argv = registry_command(
        Path("/j/java"),
        Path("/r/app-runner.jar"),
        host="127.0.0.1",
        port=18081,
        db_path=Path("/h/db"),
        heap="384m",
        marker="registry@/h",
    )
    assert "-Dapicurio.storage.kind=sql" in argv
    assert "-Dapicurio.storage.sql.kind=h2" in argv
    assert "-Dapicurio.datasource.url=jdbc:h2:file:/h/db;WRITE_DELAY=0" in argv
    assert "-Dquarkus.http.port=18081" in argv
    assert "-Dquarkus.http.host=127.0.0.1" in argv
    assert "-Dcorps.dev.service=registry@/h" in argv
    assert argv[-2:] == ["-jar", "/r/app-runner.jar"]


@pytest.mark.parametrize("layout", ["app-3.0.9-runner.jar", "quarkus-app/quarkus-run.jar", "quarkus-run.jar"])
def test_runner_is_found_in_either_layout(tmp_path: Path, layout: str) -> None:
    jar = tmp_path / layout
    jar.parent.mkdir(parents=True, exist_ok=True)
    jar.write_bytes(b"")
    assert find_runner(tmp_path) == jar


def test_missing_runner_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="runner jar"):
        find_runner(tmp_path)
