"""Resolving the broker's jars and the registry's distribution from Maven Central, once per version.

Each resolved artifact set lives in its own directory of the download cache with a marker file naming
the coordinates and files it holds; when the marker matches, Maven is not run at all (warm start).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from corps.dev.errors import ResolveError

__all__ = [
    "Artifact",
    "is_complete",
    "kafka_artifacts",
    "registry_artifact",
    "render_pom",
    "resolve_jars",
    "unpack_distribution",
]

MARKER = ".corps-complete.json"
_TAIL_LINES = 40


@dataclass(frozen=True)
class Artifact:
    """A Maven coordinate ``group:artifact:version[:type[:classifier]]``."""

    group: str
    artifact: str
    version: str
    type: str = "jar"
    classifier: str | None = None

    def __str__(self) -> str:
        parts = [self.group, self.artifact, self.version]
        if self.type != "jar" or self.classifier:
            parts.append(self.type)
        if self.classifier:
            parts.append(self.classifier)
        return ":".join(parts)


def kafka_artifacts(kafka_version: str, slf4j_version: str) -> tuple[Artifact, ...]:
    """Return the broker's dependencies: Kafka plus an SLF4J API and binding of one version.

    The API is pinned explicitly because kafka_2.13 pulls an older slf4j-api that the 2.x binding ignores.
    """
    return (
        Artifact("org.apache.kafka", "kafka_2.13", kafka_version),
        Artifact("org.slf4j", "slf4j-api", slf4j_version),
        Artifact("org.slf4j", "slf4j-simple", slf4j_version),
    )


def registry_artifact(registry_version: str) -> Artifact:
    """Return the Apicurio Registry runnable distribution (a Quarkus app as tar.gz)."""
    return Artifact("io.apicurio", "apicurio-registry-app", registry_version, "tar.gz", "all")


def render_pom(dependencies: Sequence[Artifact]) -> str:
    """Render a throwaway POM whose only purpose is to list ``dependencies`` for the dependency plugin."""
    deps = "".join(
        "\n    <dependency>"
        f"<groupId>{escape(a.group)}</groupId>"
        f"<artifactId>{escape(a.artifact)}</artifactId>"
        f"<version>{escape(a.version)}</version>"
        + (f"<type>{escape(a.type)}</type>" if a.type != "jar" else "")
        + (f"<classifier>{escape(a.classifier)}</classifier>" if a.classifier else "")
        + "</dependency>"
        for a in dependencies
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>dev.corps.local</groupId><artifactId>corps-dev-stack</artifactId>"
        "<version>1</version><packaging>pom</packaging>\n"
        f"  <dependencies>{deps}\n  </dependencies>\n"
        "</project>\n"
    )


def is_complete(directory: Path, artifacts: Sequence[Artifact]) -> bool:
    """Tell whether ``directory`` holds a finished resolve of exactly ``artifacts``."""
    try:
        marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("coordinates") != [str(a) for a in artifacts]:
        return False
    files = marker.get("files")
    return isinstance(files, list) and bool(files) and all((directory / str(f)).is_file() for f in files)


Progress = Callable[[str], None]


def resolve_jars(
    mvn: Callable[[], Path],
    artifacts: Sequence[Artifact],
    target: Path,
    *,
    maven_repo_local: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Copy ``artifacts`` and their runtime dependencies into ``target/lib`` (skipped when complete).

    Args:
        mvn: Returns the ``mvn`` executable; called only when Maven must run (a warm cache needs none).
        artifacts: What to resolve.
        target: Cache directory for this artifact set.
        maven_repo_local: Maven's local repository, when not its default.
        progress: Told about each downloaded file.

    Returns:
        The directory holding the jars.

    Raises:
        ResolveError: Maven failed; the message holds the tail of its output.
    """
    lib = target / "lib"
    if is_complete(target, artifacts):
        return lib
    staging = target / "lib.partial"
    _run_maven(
        mvn(),
        ", ".join(str(a) for a in artifacts),
        artifacts,
        target,
        [
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        staging,
        maven_repo_local,
        progress,
    )
    _replace_dir(staging, lib)
    _write_marker(target, artifacts, [f"lib/{p.name}" for p in sorted(lib.glob("*.jar"))])
    return lib


def unpack_distribution(
    mvn: Callable[[], Path],
    artifact: Artifact,
    target: Path,
    *,
    maven_repo_local: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Download and unpack an archive ``artifact`` into ``target/dist`` (skipped when complete).

    Args:
        mvn: Returns the ``mvn`` executable; called only when Maven must run (a warm cache needs none).
        artifact: The archive to unpack.
        target: Cache directory for this artifact.
        maven_repo_local: Maven's local repository, when not its default.
        progress: Told about each downloaded file.

    Returns:
        The directory holding the unpacked distribution.

    Raises:
        ResolveError: Maven failed; the message holds the tail of its output.
    """
    dist = target / "dist"
    if is_complete(target, [artifact]):
        return dist
    staging = target / "dist.partial"
    _run_maven(
        mvn(),
        str(artifact),
        [],
        target,
        ["dependency:unpack", f"-Dartifact={artifact}", f"-DoutputDirectory={staging}"],
        staging,
        maven_repo_local,
        progress,
    )
    _replace_dir(staging, dist)
    files = [f"dist/{p.relative_to(dist).as_posix()}" for p in sorted(dist.rglob("*.jar"))]
    if not files:
        raise ResolveError(f"{artifact} unpacked into {dist} but holds no jar; delete {target} and retry")
    _write_marker(target, [artifact], files)
    return dist


def _run_maven(
    mvn: Path,
    what: str,
    dependencies: Sequence[Artifact],
    workdir: Path,
    goal_args: list[str],
    staging: Path,
    maven_repo_local: Path | None,
    progress: Progress | None,
) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    pom = workdir / "pom.xml"
    pom.write_text(render_pom(dependencies), encoding="utf-8")
    argv = [str(mvn), "-B", "-f", str(pom), *goal_args]
    if maven_repo_local is not None:
        argv.append(f"-Dmaven.repo.local={maven_repo_local}")
    log_path = workdir / "mvn.log"
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    try:
        with (
            log_path.open("w", encoding="utf-8") as log,
            subprocess.Popen(
                argv,
                cwd=workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            ) as proc,
        ):
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                tail.append(line.rstrip("\n"))
                if progress is not None and line.startswith("Downloaded from"):
                    progress(f"downloaded {_downloaded_file(line)}")
            code = proc.wait()
    except OSError as exc:
        raise ResolveError(f"could not run {mvn}: {exc}") from exc
    if code != 0:
        output = "\n".join(tail)
        raise ResolveError(
            f"Maven could not resolve {what} "
            f"(exit {code}; full log: {log_path}). Last lines of mvn's output:\n{output}"
        )


def _downloaded_file(line: str) -> str:
    """``Downloaded from central: https://…/kafka_2.13-4.4.0.jar (6 MB at 5 MB/s)`` -> the file name."""
    url = line.split(": ", 1)[-1].split(" ", 1)[0]
    return url.rstrip("/").rsplit("/", 1)[-1]


def _replace_dir(staging: Path, final: Path) -> None:
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)


def _write_marker(target: Path, artifacts: Sequence[Artifact], files: list[str]) -> None:
    marker = {"coordinates": [str(a) for a in artifacts], "files": files}
    tmp = target / (MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target / MARKER)
