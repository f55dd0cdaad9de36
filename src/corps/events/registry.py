"""The schema registry, reached through confluent-kafka's client on the Confluent-compatible API.

For Apicurio Registry that API lives at ``<registry>/apis/ccompat/v7``; :class:`RegistrySettings`
``url`` is that base. Every method maps the client's failures onto corps errors and counts its call
in :attr:`SchemaRegistry.calls`, an upper bound of the HTTP requests made (the codec uses it to show
that no request is made per message once schemas are cached).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from corps.events.compatibility import CompatibilityMode
from corps.events.errors import (
    RegistryError,
    RegistryUnavailableError,
    SchemaNotRegisteredError,
    SchemaRejectedError,
)
from corps.settings import RegistrySettings

__all__ = ["SchemaRegistry"]

_T = TypeVar("_T")


def _transport_errors() -> tuple[type[Exception], ...]:
    # confluent-kafka talks HTTP through httpx2 when it is installed, else through httpx.
    errors: list[type[Exception]] = [httpx.TransportError]
    try:
        import httpx2
    except ImportError:  # pragma: no cover - depends on the environment
        return tuple(errors)
    errors.append(httpx2.TransportError)
    return tuple(errors)


_TRANSPORT_ERRORS = _transport_errors()


class SchemaRegistry:
    """A thin, counted, error-mapped wrapper of ``SchemaRegistryClient``.

    Args:
        settings: Where the registry is (the Confluent-compatible base URL).
        timeout_s: Per-request timeout.
        max_retries: Retries of a failed request (confluent-kafka retries with backoff).
    """

    def __init__(self, settings: RegistrySettings, *, timeout_s: float = 10.0, max_retries: int = 1) -> None:
        self.url = settings.url
        self.calls = 0
        self._client = SchemaRegistryClient(
            {
                "url": settings.url,
                "timeout": timeout_s,
                "max.retries": max_retries,
                "retries.wait.ms": 200,
                "retries.max.wait.ms": 2000,
            }
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()

    def __enter__(self) -> SchemaRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        """Return the Avro schema registered under ``schema_id`` as a JSON object.

        Raises:
            SchemaNotRegisteredError: The registry does not know the id (404).
            RegistryUnavailableError: The registry cannot be reached.
        """
        schema = self._call(f"schema id {schema_id}", lambda: self._client.get_schema(schema_id))
        if schema.schema_type not in (None, "AVRO"):
            raise RegistryError(f"schema id {schema_id} is {schema.schema_type}, not AVRO")
        loaded: Any = json.loads(schema.schema_str or "null")
        if not isinstance(loaded, dict):
            raise RegistryError(f"schema id {schema_id}: the registry returned no Avro record schema")
        return loaded

    def lookup(self, subject: str, schema_text: str) -> tuple[int, int]:
        """Return ``(schema id, version)`` of ``schema_text`` in ``subject``.

        Raises:
            SchemaNotRegisteredError: The subject or this schema in it is not registered.
            RegistryUnavailableError: The registry cannot be reached.
        """
        found = self._call(subject, lambda: self._client.lookup_schema(subject, Schema(schema_text, "AVRO")))
        if found.schema_id is None or found.version is None:
            raise RegistryError(
                f"schema registry at {self.url} ({subject}): lookup answered without id/version"
            )
        return found.schema_id, found.version

    def register(self, subject: str, schema_text: str) -> int:
        """Register ``schema_text`` under ``subject`` (a no-op when already there); return its id.

        Raises:
            SchemaRejectedError: Incompatible with the subject's history (409) or invalid (422).
            RegistryUnavailableError: The registry cannot be reached.
        """
        return int(
            self._call(subject, lambda: self._client.register_schema(subject, Schema(schema_text, "AVRO")))
        )

    def versions(self, subject: str) -> list[int]:
        """Return the subject's version numbers, or ``[]`` when the subject does not exist."""
        try:
            return [int(v) for v in self._call(subject, lambda: self._client.get_versions(subject))]
        except SchemaNotRegisteredError:
            return []

    def set_compatibility(self, subject: str, mode: CompatibilityMode) -> None:
        """Set the subject's compatibility mode."""
        self._call(subject, lambda: self._client.set_compatibility(subject, mode.value))

    def compatibility(self, subject: str) -> CompatibilityMode | None:
        """Return the subject's own compatibility mode, or ``None`` when it has none."""
        try:
            level = self._call(subject, lambda: self._client.get_compatibility(subject))
        except SchemaNotRegisteredError:
            return None
        return CompatibilityMode(level) if level else None

    def _call(self, what: str, request: Callable[[], _T]) -> _T:
        self.calls += 1
        try:
            return request()
        except SchemaRegistryError as exc:
            status, code = exc.http_status_code, exc.error_code
            detail = (
                f"schema registry at {self.url} ({what}): {exc.error_message} (HTTP {status}, code {code})"
            )
            if status == 404:
                raise SchemaNotRegisteredError(detail, status=status, code=code) from exc
            if status in (409, 422):
                raise SchemaRejectedError(detail, status=status, code=code) from exc
            if status >= 500 or status in (408, 429):
                raise RegistryUnavailableError(detail, status=status, code=code) from exc
            raise RegistryError(detail, status=status, code=code) from exc
        except _TRANSPORT_ERRORS as exc:
            raise RegistryUnavailableError(f"schema registry at {self.url} cannot be reached: {exc}") from exc
