"""OpenTelemetry spans per handled event, with W3C trace context carried in the record headers.

The tracer provider is injected (never the global one), so a process or a test decides where spans go.
Without a provider the runtime still propagates the incoming ``traceparent`` unchanged, so a trace is
not broken by an agent that does not export spans.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["Tracing"]

_PROPAGATOR = TraceContextTextMapPropagator()


class SpanHandle:
    """What the code inside a span may do: read its traceparent and mark it failed."""

    __slots__ = ("_span", "traceparent", "tracestate")

    def __init__(self, span: Span | None, traceparent: str | None, tracestate: str | None) -> None:
        self._span = span
        self.traceparent = traceparent
        self.tracestate = tracestate

    def fail(self, code: str, message: str) -> None:
        """Mark the span as failed with the error code and message."""
        span = self._span
        if span is not None:
            span.set_attribute("corps.error.code", code)
            span.set_status(Status(StatusCode.ERROR, message[:200]))

    def set(self, key: str, value: str | int) -> None:
        """Set an attribute on the span."""
        if self._span is not None:
            self._span.set_attribute(key, value)


class Tracing:
    """Makes one CONSUMER span per handled event, child of the event's ``traceparent``.

    Args:
        agent: The agent name (span name prefix and attribute).
        provider: Where spans go; ``None`` turns span creation off (context still propagates).
    """

    def __init__(self, agent: str, provider: TracerProvider | None = None) -> None:
        self.agent = agent
        self._tracer = provider.get_tracer("corps.runtime") if provider is not None else None

    @property
    def enabled(self) -> bool:
        """Whether spans are created."""
        return self._tracer is not None

    def span(
        self,
        event_type: str,
        *,
        traceparent: str | None,
        tracestate: str | None,
        attributes: dict[str, str | int] | None = None,
    ) -> AbstractContextManager[SpanHandle]:
        """Open the span of one handler call; the handle carries the traceparent to put on outputs.

        Without a tracer this costs next to nothing: the incoming trace context is passed through.
        """
        if self._tracer is None:
            return nullcontext(SpanHandle(None, traceparent, tracestate))
        return self._span(event_type, traceparent, tracestate, attributes or {})

    def _span(
        self,
        event_type: str,
        traceparent: str | None,
        tracestate: str | None,
        attributes: dict[str, str | int],
    ) -> _Scope:
        tracer = self._tracer
        if tracer is None:  # pragma: no cover - span() checks first
            raise RuntimeError("tracing is off")
        carrier = {}
        if traceparent:
            carrier["traceparent"] = traceparent
            if tracestate:
                carrier["tracestate"] = tracestate
        span = tracer.start_span(
            f"{self.agent} process {event_type}",
            context=_PROPAGATOR.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={"corps.agent": self.agent, "corps.event_type": event_type, **attributes},
        )
        token = otel_context.attach(set_span_in_context(span))  # current for the handler's own spans
        sc = span.get_span_context()
        out_parent = f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}"
        out_state = sc.trace_state.to_header() if sc.trace_state else tracestate
        return _Scope(span, token, SpanHandle(span, out_parent, out_state))


class _Scope(AbstractContextManager[SpanHandle]):
    """The span of one handler call, current while open; what ``start_as_current_span`` does, cheaper.

    (The SDK's version stacks three generator-based context managers and a propagator round trip to
    read back the traceparent; this is one object, and the traceparent is formatted directly.)
    """

    __slots__ = ("_span", "_token", "handle")

    def __init__(self, span: Span, token: object, handle: SpanHandle) -> None:
        self._span = span
        self._token = token
        self.handle = handle

    def __enter__(self) -> SpanHandle:
        return self.handle

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span = self._span
        try:
            if exc is not None and span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        finally:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            span.end()
