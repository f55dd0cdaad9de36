"""Starting one service of a stack (resolve, configure, spawn) and waiting until it is really ready."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from corps.dev import kafka, maven, registry
from corps.dev.config import StackConfig
from corps.dev.errors import ServiceStartError
from corps.dev.locking import file_lock
from corps.dev.models import ServiceName
from corps.dev.ports import is_port_free, pick_port, wait_for_port
from corps.dev.process import spawn
from corps.dev.readiness import wait_ready
from corps.dev.state import KafkaState, RegistryState, StackState, save_state

__all__ = ["COMPATIBILITY", "Launcher"]

T = TypeVar("T")

COMPATIBILITY = "BACKWARD"


@dataclass
class Launcher:
    """Starts the services of one stack home; holds the handles of the children it spawned."""

    config: StackConfig
    find_java: Callable[[], Path]
    find_mvn: Callable[[], Path]
    report: Callable[[str, int], None]
    children: dict[ServiceName, subprocess.Popen[bytes]] = field(default_factory=dict)

    def marker(self, service: ServiceName) -> str:
        """The string in a service's command line that identifies it as this stack's."""
        return f"{service}@{self.config.home.absolute()}"

    def log_path(self, service: ServiceName) -> Path:
        """The log file of ``service``."""
        return self.config.home / service / f"{service}.log"

    def resolve_kafka(self) -> Path:
        """Return the directory of the broker's jars, resolving them with Maven unless cached."""
        cfg = self.config
        self.report(f"resolving Kafka {cfg.kafka_version} (Maven Central, cached after the first run)", 0)
        with file_lock(cfg.cache_dir / "dev" / ".lock"):
            return maven.resolve_jars(
                self.find_mvn,
                maven.kafka_artifacts(cfg.kafka_version, cfg.slf4j_version),
                cfg.cache_dir / "dev" / f"kafka-{cfg.kafka_version}",
                maven_repo_local=cfg.maven_repo_local,
                progress=lambda text: self.report(f"resolving Kafka: {text}", 0),
            )

    def resolve_registry(self) -> Path:
        """Return the unpacked Apicurio distribution, downloading it with Maven unless cached."""
        cfg = self.config
        self.report(f"resolving Apicurio Registry {cfg.registry_version}", 2)
        with file_lock(cfg.cache_dir / "dev" / ".lock"):
            return maven.unpack_distribution(
                self.find_mvn,
                maven.registry_artifact(cfg.registry_version),
                cfg.cache_dir / "dev" / f"apicurio-registry-{cfg.registry_version}",
                maven_repo_local=cfg.maven_repo_local,
                progress=lambda text: self.report(f"resolving Apicurio Registry: {text}", 2),
            )

    def spawn_kafka(self, state: StackState) -> StackState:
        """Resolve the broker's jars, format its storage once and spawn it (see :meth:`wait_kafka`)."""
        cfg, current = self.config, state.kafka
        self.report("checking java", 0)
        java = self.find_java()
        lib = self.resolve_kafka()
        avoid = {state.registry.port} if state.registry is not None else set()
        port = self._port(current.port if current else None, cfg.kafka_port, avoid)
        controller = self._port(
            current.controller_port if current else None, cfg.controller_port, avoid | {port}
        )
        secure_port: int | None = None
        users: dict[str, str] = {}
        if cfg.secure:
            previous = current.secure_port if current else None
            secure_port = self._port(previous, cfg.secure_port, avoid | {port, controller})
            known = dict(current.sasl_users) if current else {}
            users = {name: known.get(name) or secrets.token_hex(12) for name in ("admin", *cfg.sasl_users)}
        directory = cfg.home / "kafka"
        data, properties, log = directory / "data", directory / "server.properties", self.log_path("kafka")
        directory.mkdir(parents=True, exist_ok=True)
        properties.write_text(
            kafka.render_server_properties(
                host=cfg.host,
                port=port,
                controller_port=controller,
                data_dir=data,
                secure_port=secure_port,
                sasl_users=users,
            ),
            encoding="utf-8",
        )
        cluster_id = current.cluster_id if current else kafka.new_cluster_id()
        self.report(f"starting Kafka on {cfg.host}:{port}", 1)
        if not kafka.is_formatted(data):
            kafka.format_storage(java, lib, properties, cluster_id, log_path=log, timeout=cfg.start_timeout_s)
        argv = kafka.kafka_command(java, lib, properties, heap=cfg.kafka_heap, marker=self.marker("kafka"))
        child = spawn(argv, log_path=log, cwd=directory)
        self.children["kafka"] = child
        record = KafkaState(
            pid=child.pid,
            port=port,
            controller_port=controller,
            version=cfg.kafka_version,
            cluster_id=cluster_id,
            secure_port=secure_port,
            sasl_users=users,
        )
        state = state.model_copy(update={"host": cfg.host, "kafka": record})
        save_state(cfg.home, state)
        return state

    def wait_kafka(self, record: KafkaState) -> None:
        """Wait until the broker answers an admin round trip (describe cluster)."""
        host = self.config.host
        bootstrap = f"{host}:{record.port}"

        def probe() -> int | None:
            if not wait_for_port(host, record.port, 1.0):
                return None
            return kafka.probe_kafka(bootstrap, timeout=5.0) or None

        self._wait(f"Kafka ({bootstrap})", "kafka", record.pid, probe)

    def spawn_registry(self, state: StackState) -> StackState:
        """Resolve and unpack Apicurio and spawn it on its file database (see :meth:`wait_registry`)."""
        cfg, current = self.config, state.registry
        java = self.find_java()
        dist = self.resolve_registry()
        try:
            runner = registry.find_runner(dist)
        except FileNotFoundError as exc:
            raise ServiceStartError(f"{exc}; delete {dist.parent} and run `corps dev up` again") from exc
        avoid = {state.kafka.port, state.kafka.controller_port} if state.kafka is not None else set()
        port = self._port(current.port if current else None, cfg.registry_port, avoid)
        directory = cfg.home / "registry"
        directory.mkdir(parents=True, exist_ok=True)
        self.report(f"starting the schema registry on {cfg.host}:{port}", 2)
        argv = registry.registry_command(
            java,
            runner,
            host=cfg.host,
            port=port,
            db_path=directory / "db",
            heap=cfg.registry_heap,
            marker=self.marker("registry"),
        )
        child = spawn(argv, log_path=self.log_path("registry"), cwd=directory)
        self.children["registry"] = child
        version = current.version if current else cfg.registry_version
        record = RegistryState(pid=child.pid, port=port, version=version)
        state = state.model_copy(update={"host": cfg.host, "registry": record})
        save_state(cfg.home, state)
        return state

    def wait_registry(self, record: RegistryState) -> str:
        """Wait until the registry reports its version and compatibility BACKWARD; return the version.

        Global compatibility is set to BACKWARD here when the registry reports anything else.
        """
        base = f"http://{self.config.host}:{record.port}"

        def probe() -> str | None:
            version = registry.probe_registry(base, timeout=2.0)
            level = registry.ensure_compatibility(base, COMPATIBILITY, timeout=5.0)
            return version if level == COMPATIBILITY else None

        return self._wait(f"Schema registry ({base})", "registry", record.pid, probe)

    def _wait(
        self,
        label: str,
        service: ServiceName,
        pid: int | None,
        probe: Callable[[], T | None],
    ) -> T:
        if pid is None:
            raise ServiceStartError(f"{label} has no recorded process; run `corps dev up`")
        return wait_ready(
            label,
            probe,
            pid=pid,
            marker=self.marker(service),
            log_path=self.log_path(service),
            timeout=self.config.start_timeout_s,
            stop_timeout=self.config.stop_timeout_s,
            child=self.children.get(service),
        )

    def _port(self, previous: int | None, preferred: int | None, avoid: set[int]) -> int:
        host = self.config.host
        if previous is not None and previous not in avoid and is_port_free(host, previous):
            return previous
        return pick_port(host, preferred, avoid=avoid)
