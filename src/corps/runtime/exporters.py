"""Where an agent process's spans go: nowhere, the console, or an OTLP/HTTP collector.

The SDK and the exporters are imported here, on demand, and only by the entrypoint: an agent that
exports no spans never loads them (the runtime itself needs only the OpenTelemetry API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corps.errors import ConfigurationError
from corps.runtime.settings import TelemetrySettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["tracer_provider"]


def tracer_provider(
    telemetry: TelemetrySettings, *, service: str, version: str = ""
) -> TracerProvider | None:
    """Build the tracer provider ``telemetry.traces`` asks for (``None`` for ``none``).

    The caller owns it: call ``shutdown()`` when the process ends, so batched spans are exported.

    Args:
        telemetry: The process's telemetry settings.
        service: ``service.name`` of the spans (the agent's name).
        version: ``service.version`` of the spans (the agent's version).

    Raises:
        ConfigurationError: The exporter cannot be set up (e.g. its package is missing).
    """
    if telemetry.traces == "none":
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    attributes = {"service.name": service, **({"service.version": version} if version else {})}
    provider = TracerProvider(resource=Resource.create(attributes))
    if telemetry.traces == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        return provider
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigurationError(
            "traces=otlp needs the package opentelemetry-exporter-otlp-proto-http"
        ) from exc
    exporter = OTLPSpanExporter(
        endpoint=telemetry.otlp_endpoint,
        headers=dict(telemetry.otlp_headers),
        timeout=telemetry.otlp_timeout_s,
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
