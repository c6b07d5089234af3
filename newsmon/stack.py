"""``newsmon up``: the whole pipeline as local processes, on embedded defaults where nothing is configured.

Starts the broker and Redis when ``KAFKA_BOOTSTRAP`` / ``REDIS_URL`` are unset, creates the
topics, starts the four services, and waits until each one reports ready on ``/readyz``.
``stop`` ends every process it started, services first, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pydantic import SecretStr

from newsmon.embedded import EmbeddedError, ManagedProcess, spawn, start_broker, start_redis
from shared.kafka_clients import ensure_topics
from shared.settings import SERVICE_NAMES, ServiceName, Settings

READY_TIMEOUT_S = 180.0


class Stack:
    """The processes of one local newsmon deployment."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_dir = settings.data_dir / "logs"
        self.infrastructure: list[ManagedProcess] = []
        self.services: dict[ServiceName, ManagedProcess] = {}

    def start(self) -> None:
        """Start everything and return once every service is ready; on failure stop what started."""
        try:
            if self.settings.kafka_bootstrap is None:
                self.infrastructure.extend(start_broker(self.settings.embedded_kafka_port, self.log_dir))
            if self.settings.redis_url is None:
                redis_dir = self.settings.data_dir / "redis"
                self.infrastructure.append(start_redis(self.settings.embedded_redis_port, redis_dir, self.log_dir))
            asyncio.run(ensure_topics(self.settings))
            for name in SERVICE_NAMES:
                self.services[name] = self._spawn_service(name)
            self.wait_until_ready(READY_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise

    def _spawn_service(self, name: ServiceName) -> ManagedProcess:
        env = {**os.environ, **service_environment(self.settings)}
        return spawn(name, [sys.executable, "-m", "newsmon", "service", name], self.log_dir, env)

    def restart(self, name: ServiceName) -> None:
        """Stop one service and start it again, as an operator or a crash-restart would."""
        self.services[name].stop()
        self.services[name] = self._spawn_service(name)
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
        """Services whose process has exited."""
        return [name for name, process in self.services.items() if not process.alive()]

    def stop(self) -> None:
        """Stop services (all at once), then Redis and the broker; no process outlives this call."""
        for process in self.services.values():
            process.terminate()
        for process in [*self.services.values(), *reversed(self.infrastructure)]:
            process.stop()

    def describe(self) -> str:
        """Addresses of everything running, for the console."""
        lines = [f"  kafka     {self.settings.bootstrap}", f"  redis     {self.settings.redis}"]
        lines += [f"  {name:<9} {self.url(name)}  (/metrics /healthz /readyz)" for name in self.services]
        lines.append(f"  logs      {self.log_dir}/")
        return "\n".join(lines)


def service_environment(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, so every service process sees the same configuration."""
    env: dict[str, str] = {
        "KAFKA_BOOTSTRAP": settings.bootstrap,
        "REDIS_URL": settings.redis,
    }
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
