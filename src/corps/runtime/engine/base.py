"""The engine interface the runtime programs against."""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Engine"]


class Engine(Protocol):
    """Moves records between Kafka and a processor until told to stop.

    An engine owns its Kafka clients. ``start`` connects and joins the consumer group; ``run`` handles
    batches until ``stop`` is set, finishing (and committing) the batch in flight; ``close`` leaves the
    group and releases the clients. ``run`` raises on unrecoverable errors (fenced producer, missing
    schema) so the process exits loudly instead of spinning.
    """

    async def start(self) -> None:
        """Connect, initialise transactions and subscribe."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until ``stop`` is set."""
        ...

    async def close(self) -> None:
        """Leave the consumer group and close the clients."""
        ...
