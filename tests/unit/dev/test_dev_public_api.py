"""The public surface of ``corps.dev`` is small and pinned."""

from __future__ import annotations

import corps.dev


def test_exports_are_pinned() -> None:
    assert sorted(corps.dev.__all__) == [
        "ExternalStatus",
        "LocalStack",
        "ProvisionError",
        "ResolveError",
        "ServiceName",
        "ServiceStartError",
        "ServiceStatus",
        "StackConfig",
        "StackInfo",
        "StackStatus",
        "ToolMissingError",
        "default_cache_dir",
        "default_home",
        "probe_external",
    ]


def test_every_export_exists() -> None:
    for name in corps.dev.__all__:
        assert hasattr(corps.dev, name), name


def test_errors_share_the_root() -> None:
    assert issubclass(corps.dev.ProvisionError, corps.CorpsError)
    for leaf in (corps.dev.ToolMissingError, corps.dev.ResolveError, corps.dev.ServiceStartError):
        assert issubclass(leaf, corps.dev.ProvisionError)
    assert corps.dev.ResolveError.retriable is True
