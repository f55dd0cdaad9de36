"""Where spans go: ``traces`` none / console / otlp build the matching tracer provider (no network)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from corps.cli.main import cli
from corps.runtime.exporters import tracer_provider
from corps.runtime.settings import TelemetrySettings


def test_none_builds_no_provider() -> None:
    assert tracer_provider(TelemetrySettings(), service="triage") is None


@pytest.mark.parametrize("traces", ["console", "otlp"])
def test_console_and_otlp_name_the_service(traces: str) -> None:
    settings = TelemetrySettings.model_validate(
        {"traces": traces, "otlp_endpoint": "http://127.0.0.1:9/v1/traces"}
    )
    provider = tracer_provider(settings, service="triage", version="1.2.0")
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "triage"
        assert provider.resource.attributes["service.version"] == "1.2.0"
        assert (
            provider.get_tracer("t").start_span("s").get_span_context().is_valid
        )  # never ended: not exported
    finally:
        provider.shutdown()


def test_otlp_endpoint_must_be_http() -> None:
    with pytest.raises(ValidationError, match="otlp_endpoint"):
        TelemetrySettings.model_validate({"traces": "otlp", "otlp_endpoint": "collector:4318"})


def test_run_help_offers_otlp() -> None:
    result = CliRunner().invoke(cli, ["agent", "run", "--help"])
    assert result.exit_code == 0
    assert "otlp" in result.output
    assert "--otlp-endpoint" in result.output
