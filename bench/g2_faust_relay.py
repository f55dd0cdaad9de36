"""A faust-streaming raw relay hop, run by G2 as ``python -m bench.g2_faust_relay SERVERS SRC DST N``.

It consumes SRC and sends every record unchanged to DST (awaiting each send, the usual faust agent
shape), then prints ``msgs_per_s=<rate>`` counted from the first record to the N-th and exits. This is
the measurement behind the engine choice: corps agents run on confluent-kafka behind their own engine
seam, not on faust-streaming.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any


def main(servers: str, source: str, target: str, count: int) -> None:
    """Run the relay until ``count`` records went through; print the rate; exit."""
    import faust

    app = faust.App(
        f"bench-faust-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{servers}",
        value_serializer="raw",
        key_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        autodiscover=False,
        store="memory://",
        consumer_auto_offset_reset="earliest",
        broker_max_poll_records=1000,
    )
    inbound = app.topic(source, value_type=bytes, key_type=bytes, internal=False)
    outbound = app.topic(target, value_type=bytes, key_type=bytes, internal=False)
    state: dict[str, Any] = {"n": 0, "t": 0.0}

    @app.agent(inbound)
    async def relay(stream: Any) -> None:
        async for event in stream.events():
            if not state["n"]:
                state["t"] = time.perf_counter()
            await outbound.send(
                key=event.message.key, value=event.message.value, headers=event.message.headers
            )
            state["n"] += 1
            if state["n"] >= count:
                print(f"msgs_per_s={count / (time.perf_counter() - state['t']):.1f}", flush=True)
                os._exit(0)

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
