"""One orchestrator replica as its own OS process, for the fault tests (a short session timeout).

``python -m tests.fault.orchestrator_replica TOPOLOGY INSTANCE_ID BOOTSTRAP REGISTRY_URL`` runs the
service until SIGTERM. Unlike ``corps orchestrator run`` it sets ``session.timeout.ms`` to the broker's
minimum (6 s), so when a replica is killed with -9 the group gives its partitions to the other replica
within seconds instead of after the default 45 s (static membership keeps a dead member's partitions
until its session expires).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from corps.orchestrator.service import OrchestratorService
from corps.orchestrator.settings import OrchestratorSettings
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import load_topology

SESSION = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


async def serve(file: Path, instance_id: str, bootstrap: str, registry: str) -> None:
    """Run one replica until SIGTERM."""
    topology = load_topology(file).topology
    settings = OrchestratorSettings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        registry=RegistrySettings(url=registry),
        instance_id=instance_id,
        max_wait_ms=20,
        consumer_config=SESSION,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with OrchestratorService(topology, settings) as service:
        print(f"replica {instance_id} running", flush=True)
        await service.run(stop)
        print(f"replica {instance_id} stopped: {service.stats}", flush=True)


def main() -> None:
    """Entry point (arguments: topology file, instance id, bootstrap servers, registry URL)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    file, instance_id, bootstrap, registry = sys.argv[1:5]
    asyncio.run(serve(Path(file), instance_id, bootstrap, registry))


if __name__ == "__main__":
    main()
