"""The recording seam for tool and LLM calls: record them live, substitute them in a shadow replay.

A handler routes every call with a side effect or a non-deterministic answer through
:func:`tool_call` (or :func:`atool_call` for coroutines)::

    @handler
    async def triage(event: TicketOpened) -> TicketTriaged:
        label = await atool_call("llm.classify", llm.classify, event.subject)
        return TicketTriaged(ticket_id=event.ticket_id, label=label)

Outside any binding the call simply runs. Inside :func:`recording` (what the runtime binds around a
live handler call) it runs and is appended to a sink as a :class:`CallRecord`: the event handled, the
call's position and name, a digest of its arguments and its result as JSON. Inside :func:`replaying`
(what ``corps replay --through`` binds) the recorded result of the same call — same event, same
position, same name — is returned instead, and nothing runs; a call that was not recorded raises
:class:`~corps.replay.errors.UnrecordedCallError` unless live calls are allowed. The binding lives in a
:mod:`contextvars` variable, so concurrent handlers never see each other's calls.

Results must be JSON values (what is recorded is what a shadow run gets back). This module depends on
nothing but the standard library and :mod:`corps.replay.errors`, so the runtime can host it as is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, TypeVar

from corps.replay.errors import ReplayInputError, UnrecordedCallError

__all__ = ["CallRecord", "CallTape", "CallUse", "atool_call", "recording", "replaying", "tool_call"]

P = ParamSpec("P")
T = TypeVar("T")


def _digest(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    text = json.dumps([list(args), kwargs], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One recorded call.

    Attributes:
        event_id: ``ce_id`` of the event whose handling made the call.
        agent: The agent that made it.
        seq: Its position among that handling's calls (0, 1, ...).
        name: The call's name (``llm.classify``).
        args_sha256: Digest of its arguments (canonical JSON).
        result: What it returned, as JSON.
    """

    event_id: str
    agent: str
    seq: int
    name: str
    args_sha256: str
    result: Any

    def to_json(self) -> dict[str, Any]:
        """The record as one JSON object (a line of a calls file or the value of a calls-topic record)."""
        return {
            "event_id": self.event_id,
            "agent": self.agent,
            "seq": self.seq,
            "name": self.name,
            "args_sha256": self.args_sha256,
            "result": self.result,
        }

    @classmethod
    def from_json(cls, data: Any) -> CallRecord:
        """Read :meth:`to_json` output.

        Raises:
            ReplayInputError: The object is not a call record.
        """
        try:
            return cls(
                str(data["event_id"]),
                str(data["agent"]),
                int(data["seq"]),
                str(data["name"]),
                str(data["args_sha256"]),
                data["result"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReplayInputError(f"not a recorded call: {exc}") from exc


class CallTape:
    """Recorded calls, found by (event id, position)."""

    def __init__(self, records: Iterable[CallRecord] = ()) -> None:
        self._calls: dict[tuple[str, int], CallRecord] = {}
        for record in records:
            self._calls[(record.event_id, record.seq)] = record

    def __len__(self) -> int:
        return len(self._calls)

    @classmethod
    def from_jsonl(cls, lines: Iterable[str], *, where: str = "calls") -> CallTape:
        """Read JSON lines of :meth:`CallRecord.to_json` (blank lines skipped).

        Raises:
            ReplayInputError: A line is not a call record; the message names the line.
        """
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(CallRecord.from_json(json.loads(line)))
            except (ValueError, ReplayInputError) as exc:
                raise ReplayInputError(f"{where}:{number}: {exc}") from exc
        return cls(records)

    def get(self, event_id: str, seq: int) -> CallRecord | None:
        """The call made at position ``seq`` while handling ``event_id``, if recorded."""
        return self._calls.get((event_id, seq))


@dataclass(frozen=True, slots=True)
class CallUse:
    """What a shadow run did with one call: ``recorded`` (substituted) or ``live`` (ran it)."""

    seq: int
    name: str
    how: Literal["recorded", "live"]
    args_match: bool = True


@dataclass
class _Binding:
    mode: Literal["record", "replay"]
    event_id: str
    agent: str
    sink: list[CallRecord] = field(default_factory=list)
    tape: CallTape | None = None
    live: bool = False
    uses: list[CallUse] = field(default_factory=list)
    next_seq: int = 0

    def take(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq


_BINDING: ContextVar[_Binding | None] = ContextVar("corps_call_binding", default=None)


def _recorded(binding: _Binding, seq: int, name: str, digest: str) -> tuple[bool, Any]:
    tape = binding.tape
    found = tape.get(binding.event_id, seq) if tape is not None else None
    if found is not None and found.name == name:
        binding.uses.append(CallUse(seq, name, "recorded", found.args_sha256 == digest))
        return True, found.result
    if not binding.live:
        raise UnrecordedCallError(
            f"call {seq} ({name}) while handling {binding.event_id} was not recorded, and live calls are off",
            name=name,
            event_id=binding.event_id,
        )
    binding.uses.append(CallUse(seq, name, "live"))
    return False, None


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def tool_call(name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Make a tool or LLM call through the seam (run, record, or substitute; see the module doc)."""
    binding = _BINDING.get()
    if binding is None:
        return fn(*args, **kwargs)
    seq = binding.take()
    digest = _digest(args, kwargs)
    if binding.mode == "replay":
        found, result = _recorded(binding, seq, name, digest)
        if found:
            return result  # type: ignore[no-any-return]
        return fn(*args, **kwargs)
    value = fn(*args, **kwargs)
    binding.sink.append(CallRecord(binding.event_id, binding.agent, seq, name, digest, _as_json(value)))
    return value


async def atool_call(name: str, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """:func:`tool_call` for a coroutine function."""
    binding = _BINDING.get()
    if binding is None:
        return await fn(*args, **kwargs)
    seq = binding.take()
    digest = _digest(args, kwargs)
    if binding.mode == "replay":
        found, result = _recorded(binding, seq, name, digest)
        if found:
            return result  # type: ignore[no-any-return]
        return await fn(*args, **kwargs)
    value = await fn(*args, **kwargs)
    binding.sink.append(CallRecord(binding.event_id, binding.agent, seq, name, digest, _as_json(value)))
    return value


@contextmanager
def recording(event_id: str, agent: str, sink: list[CallRecord]) -> Iterator[list[CallRecord]]:
    """Run calls made inside the block live and append them to ``sink`` (the runtime's side)."""
    token = _BINDING.set(_Binding("record", event_id, agent, sink=sink))
    try:
        yield sink
    finally:
        _BINDING.reset(token)


@contextmanager
def replaying(
    event_id: str, agent: str, tape: CallTape | None, *, live: bool = False
) -> Iterator[list[CallUse]]:
    """Substitute recorded calls inside the block; yield the list of what each call did."""
    binding = _Binding("replay", event_id, agent, tape=tape, live=live)
    token = _BINDING.set(binding)
    try:
        yield binding.uses
    finally:
        _BINDING.reset(token)
