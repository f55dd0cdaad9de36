"""Read a topology file into a :class:`~corps.topology.models.Topology`, keeping its source map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from corps.topology.diagnostics import Diagnostic, Severity, TopologyError
from corps.topology.models import Topology
from corps.topology.source import SourceMap, load_yaml

__all__ = ["LoadedTopology", "load_topology", "parse_topology"]


@dataclass(frozen=True)
class LoadedTopology:
    """A parsed topology with the file it came from and where each of its keys sits."""

    topology: Topology
    source: SourceMap

    @property
    def path(self) -> Path:
        """The topology file."""
        return self.source.file


def _pydantic_diagnostics(exc: ValidationError, source: SourceMap) -> list[Diagnostic]:
    found = []
    for error in exc.errors(include_url=False):
        # Drop pydantic's own loc parts (union members, "[key]") that are not keys of the file.
        path = tuple(part for part in error["loc"] if part != "[key]")
        location = source.locate(path)
        kind = error["type"]
        code = {
            "missing": "missing-key",
            "extra_forbidden": "unknown-key",
        }.get(kind, "invalid-value")
        message = error["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            message = "not a known key here (check the spelling; the format is in topology/README.md)"
        elif kind == "missing":
            message = f"required key {path[-1]!r} is missing" if path else "a required key is missing"
        elif (
            "input" in error
            and not isinstance(error["input"], dict | list)
            and repr(error["input"]) not in message
        ):
            message = f"{message} (got {error['input']!r})"
        found.append(Diagnostic(severity=Severity.ERROR, code=code, message=message, location=location))
    return found


def parse_topology(text: str, file: Path) -> LoadedTopology:
    """Parse topology YAML text; ``file`` is only used to name locations.

    Raises:
        TopologyError: invalid YAML or a value of the wrong shape (each finding names line and key).
    """
    data, source = load_yaml(text, file)
    if not isinstance(data, dict):
        raise TopologyError(
            [
                Diagnostic(
                    severity=Severity.ERROR,
                    code="invalid-value",
                    message="a topology file is a mapping (workflow:, events:, steps: ...)",
                    location=source.locate(()),
                )
            ]
        )
    try:
        topology = Topology.model_validate(data)
    except ValidationError as exc:
        raise TopologyError(_pydantic_diagnostics(exc, source)) from exc
    return LoadedTopology(topology=topology, source=source)


def load_topology(path: Path) -> LoadedTopology:
    """Read and parse the topology file at ``path``.

    Raises:
        TopologyError: the file cannot be read, or is not a well-formed topology.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(
            [
                Diagnostic(
                    severity=Severity.ERROR,
                    code="unreadable",
                    message=f"cannot read the file: {exc.strerror or exc}",
                    location=SourceMap(file=path).locate(()),
                )
            ]
        ) from exc
    return parse_topology(text, path)
