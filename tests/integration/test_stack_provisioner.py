"""The provisioner's failure paths with real JVMs: a service that dies at start is reported with its log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from corps.dev import LocalStack, ServiceStartError

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["kafka", "registry"])
def test_service_dying_at_start_reports_its_log_and_stops_the_other(
    scratch_stack: Callable[..., LocalStack], service: str
) -> None:
    # a 1 KiB heap makes the JVM refuse to start: a real death at start, nothing faked
    local = scratch_stack(f"dies-{service}", **{f"{service}_heap": "1k"})

    with pytest.raises(ServiceStartError) as failure:
        local.up()

    message = str(failure.value)
    assert "died during start" in message
    assert "exit code 1" in message
    assert "Error occurred during initialization of VM" in message  # the JVM's words, from its log
    assert str(local.log_path(service)) in message  # type: ignore[arg-type]
    status = local.status()
    assert not status.kafka.running
    assert not status.registry.running  # the healthy one it spawned alongside was stopped again
