"""The local development stack: one Kafka broker and one schema registry under a stack home.

Layout of a stack home::

    state.json                      pids, ports, versions (see corps.dev.state)
    kafka/server.properties         regenerated on every start
    kafka/data/                     the broker's log directory (kept by `down`, removed by `down --purge`)
    kafka/kafka.log                 the broker's stdout/stderr
    registry/db.mv.db               the registry's H2 file database
    registry/registry.log           the registry's stdout/stderr

Jars and the registry distribution live in the shared download cache (``cache_dir/dev``), not here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from corps.dev import registry
from corps.dev.config import StackConfig
from corps.dev.errors import ProvisionError
from corps.dev.launch import Launcher
from corps.dev.locking import file_lock
from corps.dev.models import ProgressFn, ServiceName, ServiceStatus, StackInfo, StackStatus
from corps.dev.process import is_running, stop
from corps.dev.state import STATE_FILE, StackState, load_state, save_state
from corps.dev.tools import Which, find_tool, require_java

__all__ = ["LocalStack"]

_UP_STEPS = 5


class LocalStack:
    """A Kafka broker plus an Apicurio schema registry, run as processes that outlive the caller.

    Both are provisioned from Maven Central into the download cache and found again through the state
    file in ``config.home``, so any later process (another CLI call, a test session) can use or stop them.

    Args:
        config: Where the stack lives, versions, preferred ports, timeouts.
        progress: Called with ``(description, completed, total)`` while :meth:`up` works.
        which: Executable lookup, injectable for tests (defaults to :func:`shutil.which`).
    """

    def __init__(
        self, config: StackConfig, *, progress: ProgressFn | None = None, which: Which | None = None
    ) -> None:
        self._config = config
        self._progress = progress
        self._which = which
        self._launcher = Launcher(config, self._find_java, self._find_mvn, self._report)

    @property
    def config(self) -> StackConfig:
        """The configuration this stack was created with."""
        return self._config

    @property
    def home(self) -> Path:
        """The stack's directory."""
        return self._config.home

    def log_path(self, service: ServiceName) -> Path:
        """Return the log file of ``service`` (``"kafka"`` or ``"registry"``)."""
        return self._launcher.log_path(service)

    def status(self) -> StackStatus:
        """Report what runs now, from the state file and the live processes (starts nothing).

        Raises:
            ProvisionError: The state file is corrupt.
        """
        state = load_state(self.home)
        info = self._info(state)
        k, r = state.kafka, state.registry
        return StackStatus(
            home=self.home,
            kafka=ServiceStatus(
                running=k is not None and is_running(k.pid, self._launcher.marker("kafka")),
                pid=k.pid if k else None,
                address=f"{state.host}:{k.port}" if k else None,
                version=k.version if k else None,
                log=self.log_path("kafka"),
            ),
            registry=ServiceStatus(
                running=r is not None and is_running(r.pid, self._launcher.marker("registry")),
                pid=r.pid if r else None,
                address=f"http://{state.host}:{r.port}" if r else None,
                version=r.version if r else None,
                log=self.log_path("registry"),
            ),
            info=info,
        )

    def up(self) -> StackInfo:
        """Start whatever is not running yet and wait until both services are really ready.

        Ready means: an admin round trip to the broker succeeded, and the registry answered with its
        version and reports global compatibility BACKWARD. Idempotent: with both running it only checks
        them (well under a second) and returns.

        Raises:
            ToolMissingError: ``java`` (or, while the cache is cold, ``mvn``) is missing or too old.
            ResolveError: Maven could not download the artifacts (the message holds mvn's output tail).
            ServiceStartError: A service died at start or did not become ready (with its log tail).
        """
        with file_lock(self.home / ".lock"):
            state = self._ensure(("kafka", "registry"), load_state(self.home))
            self._report("stack is up", _UP_STEPS)
            return self._require_info(state)

    def prepare(self) -> None:
        """Download (or find in the cache) everything :meth:`up` needs, without starting anything.

        Raises:
            ToolMissingError: ``mvn`` is needed (cold cache) but missing.
            ResolveError: Maven could not download the artifacts.
        """
        self._launcher.resolve_kafka()
        self._launcher.resolve_registry()

    def down(self, *, purge: bool = False) -> list[ServiceName]:
        """Stop both services (SIGTERM, SIGKILL after ``stop_timeout_s``); keep their data unless ``purge``.

        Returns:
            The services that were running and have been stopped.
        """
        with file_lock(self.home / ".lock"):
            try:
                state = load_state(self.home)
            except ProvisionError:
                if not purge:
                    raise
                state = StackState()
            stopped: list[ServiceName] = []
            if state.registry is not None and self._stop("registry", state.registry.pid, kill=False):
                stopped.append("registry")
            if state.kafka is not None and self._stop("kafka", state.kafka.pid, kill=False):
                stopped.append("kafka")
            if purge:
                for child in ("kafka", "registry"):
                    shutil.rmtree(self.home / child, ignore_errors=True)
                (self.home / STATE_FILE).unlink(missing_ok=True)
            elif state.kafka is not None or state.registry is not None:
                kafka = state.kafka.model_copy(update={"pid": None}) if state.kafka else None
                reg = state.registry.model_copy(update={"pid": None}) if state.registry else None
                save_state(self.home, state.model_copy(update={"kafka": kafka, "registry": reg}))
            return stopped

    def restart_kafka(self, *, hard: bool = False) -> StackInfo:
        """Stop the broker (SIGKILL when ``hard``, else SIGTERM) and start it again on the same ports.

        Raises:
            ProvisionError: The stack was never started, or the broker did not come back.
        """
        return self._restart("kafka", hard=hard)

    def restart_registry(self, *, hard: bool = False) -> StackInfo:
        """Stop the registry (SIGKILL when ``hard``, else SIGTERM) and start it again on the same port.

        Raises:
            ProvisionError: The stack was never started, or the registry did not come back.
        """
        return self._restart("registry", hard=hard)

    # -- internals ---------------------------------------------------------------------------------

    def _ensure(self, services: tuple[ServiceName, ...], state: StackState) -> StackState:
        """Spawn each of ``services`` that is not running (both at once), then wait for all to be ready.

        When one fails, the services spawned by this call are stopped again before the error propagates.
        """
        launcher = self._launcher
        spawned: list[tuple[ServiceName, int | None]] = []
        try:
            if "kafka" in services and not self._running(state, "kafka"):
                state = launcher.spawn_kafka(state)
                spawned.append(("kafka", state.kafka.pid if state.kafka else None))
            if "registry" in services and not self._running(state, "registry"):
                state = launcher.spawn_registry(state)
                spawned.append(("registry", state.registry.pid if state.registry else None))
            if "kafka" in services and state.kafka is not None:
                self._report("waiting for Kafka: an admin round trip", 3)
                launcher.wait_kafka(state.kafka)
            if "registry" in services and state.registry is not None:
                self._report("waiting for the schema registry (and compatibility BACKWARD)", 4)
                version = launcher.wait_registry(state.registry)
                if version != state.registry.version:
                    registry_state = state.registry.model_copy(update={"version": version})
                    state = state.model_copy(update={"registry": registry_state})
                    save_state(self.home, state)
        except ProvisionError:
            for service, pid in spawned:
                self._stop(service, pid, kill=False)
            raise
        return state

    def _running(self, state: StackState, service: ServiceName) -> bool:
        record = state.kafka if service == "kafka" else state.registry
        return record is not None and is_running(record.pid, self._launcher.marker(service))

    def _restart(self, service: ServiceName, *, hard: bool) -> StackInfo:
        with file_lock(self.home / ".lock"):
            state = load_state(self.home)
            current = state.kafka if service == "kafka" else state.registry
            if current is None:
                raise ProvisionError(f"cannot restart {service}: the stack in {self.home} was never started")
            self._stop(service, current.pid, kill=hard)
            return self._require_info(self._ensure((service,), state))

    def _stop(self, service: ServiceName, pid: int | None, *, kill: bool) -> bool:
        stopped = stop(pid, self._launcher.marker(service), timeout=self._config.stop_timeout_s, kill=kill)
        child = self._launcher.children.pop(service, None)
        if child is not None:
            child.poll()  # reaped already by stop(); this lets the handle know
        return stopped

    def _find_java(self) -> Path:
        cfg = self._config
        java = find_tool(cfg.java, search_path=cfg.search_path, which=self._which)
        require_java(java)
        return java

    def _find_mvn(self) -> Path:
        cfg = self._config
        return find_tool(cfg.mvn, search_path=cfg.search_path, which=self._which)

    def _report(self, description: str, completed: int) -> None:
        if self._progress is not None:
            self._progress(description, completed, _UP_STEPS)

    def _require_info(self, state: StackState) -> StackInfo:
        info = self._info(state)
        if info is None:  # pragma: no cover - both services are recorded before this is called
            raise ProvisionError(f"the stack in {self.home} has no recorded broker or registry")
        return info

    @staticmethod
    def _info(state: StackState) -> StackInfo | None:
        if state.kafka is None or state.registry is None:
            return None
        return StackInfo(
            bootstrap_servers=f"{state.host}:{state.kafka.port}",
            schema_registry_url=f"http://{state.host}:{state.registry.port}{registry.CCOMPAT_PATH}",
            kafka_version=state.kafka.version,
            registry_version=state.registry.version,
            secure_bootstrap_servers=(
                f"{state.host}:{state.kafka.secure_port}" if state.kafka.secure_port is not None else None
            ),
            sasl_users=dict(state.kafka.sasl_users),
        )
