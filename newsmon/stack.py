"""``newsmon up``: the whole pipeline as local processes, on embedded defaults where nothing is configured,
supervised the way compose's ``restart: unless-stopped`` supervises containers.

Starts the broker and Redis when ``KAFKA_BOOTSTRAP`` / ``REDIS_URL`` are unset, creates the
topics, starts the five services, and waits until each one reports ready on ``/readyz``. From then
on a supervisor thread starts again any process that dies (see ``newsmon.supervisor``); only
``stop`` ends them, services first, then Redis and the broker, so nothing is left running.

Nothing outlives the stack either when ``newsmon up`` itself is killed: the services carry a
parent-death signal and a guard process stops the broker and Redis after them
(``newsmon.stack_guard``). A new stack on the same data dir first stops what an earlier one left
running, by the pids and start times of its state file, and says so; a port held by the stack of
another data dir is refused with the command that stops that stack (``newsmon.preflight``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from aiokafka.errors import KafkaError
from pydantic import SecretStr

from newsmon.embedded import (
    EmbeddedError,
    ManagedProcess,
    free_port,
    local_redis_password,
    spawn,
    start_redis,
    start_relay,
    start_tansu,
    stop_together,
)
from newsmon.preflight import check_ports, take_over_data_dir
from newsmon.private_files import private_directory
from newsmon.process_identity import start_time
from newsmon.stack_guard import start_guard
from newsmon.stack_state import BROKER, INFRASTRUCTURE, REDIS, RELAY, STATE_FILE, StackState, write_state
from newsmon.supervisor import Report, Supervised, Supervisor
from services.notifier.webhooks.url_safety import redact_url
from shared.kafka_clients import ensure_topics
from shared.logs import log_event
from shared.settings import SERVICE_NAMES, ServiceName, Settings

READY_TIMEOUT_S = 180.0
# A service stops within NEWSMON_SHUTDOWN_TIMEOUT_S by itself; this is the margin before SIGKILL.
SERVICE_STOP_MARGIN_S = 2.0
INFRASTRUCTURE_STOP_S = 10.0
SERVICES_STOP_WITHOUT_BROKER_S = 5.0
# Why the services restart with the broker: measured, not assumed (README, "Faults it survives").
BROKER_RESTART_NOTE = ("the services restart with it: the new broker is empty, and a running faust consumer "
                       "would skip new messages at offsets it had already read")

logger = logging.getLogger(__name__)


class Stack:
    """The processes of one local newsmon deployment, restarted when they die until ``stop``.

    ``process(name)`` is the running process of ``broker``, ``broker-relay``, ``redis`` or a service
    (its ``pid`` is what a test signals); ``services`` and ``infrastructure`` list them by kind.
    Every restart is passed to ``report`` as one line for a person (``newsmon up`` prints it).
    """

    def __init__(self, settings: Settings, report: Report | None = None) -> None:
        self.settings = settings
        self.log_dir = settings.data_dir / "logs"
        self.state_path = settings.data_dir / STATE_FILE
        self.lock = threading.RLock()
        self.broker_starts = 0  # a new broker holds new topics: readers of the old ones start over
        self.broker_epoch: str | None = None  # drawn at each start of the embedded broker (NEWSMON_BROKER_EPOCH)
        self._report = report or _log_report
        self._supervised: dict[str, Supervised] = {}
        self._tansu_port: int | None = None
        self._supervisor: Supervisor | None = None
        self._guard: subprocess.Popen[bytes] | None = None
        self._wrote_state = False
        self._started_at = start_time(os.getpid())
        self.service_stop_s = settings.shutdown_timeout_s + SERVICE_STOP_MARGIN_S

    @property
    def services(self) -> dict[ServiceName, ManagedProcess]:
        """The service processes that run now, by name."""
        with self.lock:
            return {name: self._supervised[name].process for name in SERVICE_NAMES if name in self._supervised}

    @property
    def infrastructure(self) -> list[ManagedProcess]:
        """The embedded broker, its relay and Redis that run now, in start order."""
        with self.lock:
            return [self._supervised[name].process for name in INFRASTRUCTURE if name in self._supervised]

    def process(self, name: str) -> ManagedProcess:
        """The process now running as ``name`` (after a restart, the new one)."""
        with self.lock:
            return self._supervised[name].process

    def supervised(self) -> dict[str, Supervised]:
        """Every process with its supervision record (restarts, last exit), in start order."""
        return dict(self._supervised)

    def start(self) -> None:
        """Start everything, return once every service is ready, and supervise from then on; on failure
        stop what started.

        First, what an earlier ``newsmon up`` of this data dir left running is stopped (and reported);
        a stack that still runs there, or a port that is taken, is an ``EmbeddedError`` saying what to do.
        """
        private_directory(self.settings.data_dir)
        for line in take_over_data_dir(self.settings.data_dir, self.service_stop_s):
            self._report(line)
        check_ports(self.settings)
        self._guard = start_guard(self.settings.data_dir, self.service_stop_s)
        try:
            if self.settings.kafka_bootstrap is None:
                self._tansu_port = free_port()
                self._start_broker()
                self._add(RELAY, self._start_relay())
            if self.settings.redis_url is None:
                self._add(REDIS, self._start_redis())
            asyncio.run(ensure_topics(self.settings))
            for name in SERVICE_NAMES:
                self._add(name, self._spawn_service(name))
            self.wait_until_ready(READY_TIMEOUT_S)
            self._supervisor = Supervisor(self, self._report).start()
        except BaseException:
            self.stop()
            raise

    def _add(self, name: str, process: ManagedProcess) -> None:
        """Supervise a newly started process, and record its pid at once: if ``newsmon up`` dies during
        start-up, the guard and the next ``newsmon up`` still find it."""
        self._supervised[name] = Supervised(process)
        self.save_state()

    def _start_broker(self) -> None:
        assert self._tansu_port is not None
        broker = start_tansu(self._tansu_port, self.settings.embedded_kafka_port, self.log_dir,
                             stack_dir=self.settings.data_dir)
        self.broker_starts += 1
        self.broker_epoch = uuid.uuid4().hex
        if BROKER in self._supervised:
            self._supervised[BROKER].replaced_by(broker)
        else:
            self._add(BROKER, broker)

    def _start_relay(self) -> ManagedProcess:
        assert self._tansu_port is not None
        return start_relay(self.settings.embedded_kafka_port, self._tansu_port, self.log_dir,
                           stack_dir=self.settings.data_dir)

    def _start_redis(self) -> ManagedProcess:
        password = local_redis_password(self.settings.data_dir)
        return start_redis(self.settings.embedded_redis_port, self.settings.data_dir / "redis", self.log_dir, password,
                           stack_dir=self.settings.data_dir)

    def _spawn_service(self, name: ServiceName) -> ManagedProcess:
        env = {**os.environ, **service_environment(self.settings)}
        if self.broker_epoch is not None:  # the alerter republishes its recent alerts on a new, empty broker
            env["NEWSMON_BROKER_EPOCH"] = self.broker_epoch
        return spawn(name, [sys.executable, "-m", "newsmon", "service", name], self.log_dir, env,
                     stack_dir=self.settings.data_dir)

    def revive(self, name: str) -> None:
        """Start the dead process ``name`` again (the supervisor calls this); raises ``EmbeddedError``
        when it cannot start. The broker brings its topics back, and restarts the services."""
        with self.lock:
            if name == BROKER:
                self._revive_broker()
            elif name == RELAY:
                self._supervised[RELAY].replaced_by(self._start_relay())
            elif name == REDIS:
                self._supervised[REDIS].replaced_by(self._start_redis())
            else:
                service = next(service for service in SERVICE_NAMES if service == name)
                self._supervised[name].replaced_by(self._spawn_service(service))

    def revival_note(self, name: str) -> str:
        """What else happens when ``name`` is revived, for the console line."""
        return BROKER_RESTART_NOTE if name == BROKER else ""

    def _revive_broker(self) -> None:
        """tansu on its old port, the topics recreated, then fresh service processes.

        The services are stopped first, so none reads the new, empty broker with the offsets of the
        old one; a service whose restart is pending starts here too.
        """
        services = {name: self._supervised[name] for name in SERVICE_NAMES if name in self._supervised}
        # Short: with no broker, a faust worker's shutdown waits for it; the restart redelivers anyway.
        stop_together([record.process for record in services.values()], SERVICES_STOP_WITHOUT_BROKER_S)
        self._start_broker()
        try:
            asyncio.run(ensure_topics(self.settings))
        except (KafkaError, OSError, RuntimeError) as error:
            self._supervised[BROKER].process.process.kill()  # not stop(): the supervisor retries a dead broker
            raise EmbeddedError(f"the restarted broker did not take the topics: {error}") from error
        for name, record in services.items():
            record.replaced_by(self._spawn_service(name), reason="restarted with the broker")

    def restart(self, name: ServiceName) -> None:
        """Stop one service and start it again, as an operator would; not counted as a fault."""
        with self.lock:
            record = self._supervised[name]
            record.process.stop()
            record.replaced_by(self._spawn_service(name))
            self.save_state()
        self.wait_until_ready(READY_TIMEOUT_S)

    def wait_until_ready(self, timeout: float) -> None:
        """Poll every service's ``/readyz``; raise with the service's log when one dies or stalls."""
        deadline = time.monotonic() + timeout
        waiting = set(self.services)
        while waiting:
            for name in sorted(waiting):
                process = self.services[name]
                if not process.alive():
                    raise EmbeddedError(f"service {name} exited during start-up:\n{process.log_tail()}")
                if self.ready(name):
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                name = sorted(waiting)[0]
                raise EmbeddedError(f"service {name} not ready after {timeout:.0f}s:\n{self.services[name].log_tail()}")
            time.sleep(0.5)

    def ready(self, name: ServiceName) -> bool:
        """True when the service answers 200 on ``/readyz``."""
        try:
            with urllib.request.urlopen(self.url(name, "/readyz"), timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def url(self, name: ServiceName, path: str = "") -> str:
        """The address of one service's HTTP endpoint on this machine."""
        return f"http://127.0.0.1:{self.settings.service_port(name)}{path}"

    def dead_services(self) -> list[ServiceName]:
        """Services whose process has exited (and is not restarted yet)."""
        return [name for name, process in self.services.items() if not process.alive()]

    def save_state(self) -> None:
        """Rewrite the state file that ``newsmon status`` and ``newsmon processes`` read."""
        with self.lock:
            processes = [record.state() for record in self._supervised.values()]
            write_state(self.state_path, StackState(os.getpid(), processes, self._started_at))
            self._wrote_state = True

    def stop(self) -> None:
        """Stop supervising, then stop services (all at once), then Redis and the broker; no process
        outlives this call.

        Bounded whatever is down: each service exits within ``NEWSMON_SHUTDOWN_TIMEOUT_S`` by itself
        (SIGKILL a little after), and a paused broker or Redis is woken to act on its SIGTERM.
        """
        if self._supervisor is not None:
            self._supervisor.stop()
        with self.lock:
            stop_together(list(self.services.values()), self.service_stop_s)
            for process in reversed(self.infrastructure):
                process.stop(INFRASTRUCTURE_STOP_S)
            if self._wrote_state:  # a start refused because another stack runs here leaves its file alone
                self.state_path.unlink(missing_ok=True)
        if self._guard is not None:  # nothing left for it to stop: it reads no state file and exits
            self._guard.communicate()
            self._guard = None

    def describe(self) -> str:
        """Addresses of everything running, for the console (the Redis URL without its password)."""
        lines = [f"  kafka     {self.settings.bootstrap}", f"  redis     {redact_url(self.settings.redis)}"]
        lines += [f"  {name:<9} {self.url(name)}  (/metrics /healthz /readyz)" for name in self.services]
        lines.append(f"  logs      {self.log_dir}/")
        return "\n".join(lines)


def _log_report(line: str) -> None:
    log_event(logger, "stack.restart", logging.WARNING, detail=line)


def service_environment(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so every service process sees the same configuration.

    The embedded Redis's password is not among them: each process reads it from the data dir.
    """
    env: dict[str, str] = {"KAFKA_BOOTSTRAP": settings.bootstrap,
                           # resolved here: with KAFKA_BOOTSTRAP set, a service could not tell the broker is embedded
                           "NEWSMON_KAFKA_FETCH_MAX_WAIT_S": str(settings.fetch_max_wait_s)}
    if settings.redis_url is not None:
        env["REDIS_URL"] = settings.redis_url
    for name, value in settings.model_dump(exclude={"kafka_bootstrap", "redis_url"}).items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        elif isinstance(value, Path):
            value = str(value.resolve())
        env[f"NEWSMON_{name.upper()}"] = str(value)
    return env
