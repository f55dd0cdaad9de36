"""The public surface of ``corps`` is small and pinned: changing it is a deliberate act."""

from __future__ import annotations

import corps


def test_root_exports_are_pinned() -> None:
    assert sorted(corps.__all__) == [
        "Client",
        "ConfigurationError",
        "CorpsError",
        "CorpsSettings",
        "KafkaSettings",
        "RegistrySettings",
        "ServiceUnavailableError",
        "__version__",
    ]


def test_every_export_exists() -> None:
    for name in corps.__all__:
        assert hasattr(corps, name), name
