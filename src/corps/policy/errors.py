"""Errors of the policy layer: files that cannot be loaded, sets that cannot be published or read."""

from __future__ import annotations

from collections.abc import Iterable

from corps.errors import ConfigurationError, CorpsError
from corps.topology import Diagnostic, format_diagnostics

__all__ = ["PolicyError", "PolicyStoreError"]


class PolicyError(ConfigurationError):
    """Policy files are invalid; ``diagnostics`` name file, line, column and key of each problem."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(format_diagnostics(self.diagnostics) or "invalid policy files")


class PolicyStoreError(CorpsError):
    """The policies topic cannot be written or read, or holds a record that is not a policy set."""
