"""Findings about a topology file, each naming the file, the line and the key it is about."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from corps.errors import ConfigurationError

__all__ = ["Diagnostic", "Location", "Severity", "TopologyError", "format_diagnostics"]


class Severity(StrEnum):
    """How bad a finding is: errors make ``corps topology validate`` exit non-zero, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class Location(BaseModel):
    """Where in a file: 1-based line and column, and the dotted key path (``steps.refund.agent``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: Path
    line: int
    column: int
    key: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Diagnostic(BaseModel):
    """One finding: severity, a stable code (``unknown-agent``), a message and where it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity: Severity
    code: str
    message: str
    location: Location

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.severity.value} [{self.code}] {where.key or '<top>'}: {self.message}"


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    """One line per finding, in file order."""
    ordered = sorted(diagnostics, key=lambda d: (str(d.location.file), d.location.line, d.location.column))
    return "\n".join(str(d) for d in ordered)


class TopologyError(ConfigurationError):
    """A topology file cannot be loaded or is invalid; ``diagnostics`` says where and why."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(format_diagnostics(self.diagnostics) or "invalid topology")
