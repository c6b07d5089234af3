"""A `newsmon up` of the fault tests, driven as a user drives it: the command, its console, its API, its
CLI, and the pids it keeps in its state file; and what its webhook subscriber received.

Faults are injected by pid, on processes this `newsmon up` started, read from its state file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmon.stack_state import StackState, read_state
from shared.settings import SERVICE_NAMES, Settings
from tests.integration.conftest import read_json_topic
from tests.integration.console import Console
from tests.integration.receiver import Receiver, signature_valid
from tests.local_http import json_call
from tests.waiting import wait_until

START_TIMEOUT_S = 240.0
RECOVERY_TIMEOUT_S = 180.0


@dataclass
class UpStack:
    """One `newsmon up` process on its own ports and data dir, started from ``root`` (its working dir)."""

    root: Path
    env: dict[str, str]
    ports: dict[str, int]
    console: Console | None = None
    consoles: list[Console] = field(default_factory=list)  # every run, for the secrets check

    @property
    def data_dir(self) -> Path:
        return Path(self.env["NEWSMON_DATA_DIR"])

    @property
    def settings(self) -> Settings:
        """What this stack's CLI reads (embedded broker and Redis on this stack's ports)."""
        return Settings(_env_file=None, embedded_kafka_port=self.ports["EMBEDDED_KAFKA"],
                        embedded_redis_port=self.ports["EMBEDDED_REDIS"], data_dir=self.data_dir)

    def start(self) -> UpStack:
        """Run `newsmon up` and return once it says it is watching alerts."""
        self.console = Console.start([sys.executable, "-m", "newsmon", "up"], self.env, self.root)
        self.consoles.append(self.console)
        console = self.console
        wait_until(lambda: console.starting("watching alerts") or console.process.poll() is not None,
                   START_TIMEOUT_S, lambda: "newsmon up to start; console:\n" + "\n".join(console.lines))
        assert console.process.poll() is None, "\n".join(console.lines)
        return self

    def stop(self) -> None:
        """Ctrl-C as a user would (SIGTERM): every process stops, in order."""
        if self.console is not None:
            self.console.stop()
            assert self.console.lines[-1] == "stopped.", "\n".join(self.console.lines[-20:])

    def state(self) -> StackState:
        state = read_state(self.data_dir)
        assert state is not None and state.running(), f"no running newsmon up in {self.data_dir}"
        return state

    def kill(self, name: str, signum: signal.Signals = signal.SIGKILL) -> int:
        """Signal the process `newsmon up` runs as ``name``, found by pid in its state file; returns the pid."""
        pid = self.state().pid(name)
        os.kill(pid, signum)
        return pid

    def restarts(self) -> dict[str, int]:
        return {process.name: process.restarts for process in self.state().processes}

    def wait_restarted(self, name: str, old_pid: int, restarts_before: int) -> None:
        """Until the supervisor has started ``name`` again (a live new pid, one more restart)."""

        def restarted() -> bool:
            [process] = [process for process in self.state().processes if process.name == name]
            return process.pid != old_pid and process.alive() and process.restarts == restarts_before + 1

        wait_until(restarted, RECOVERY_TIMEOUT_S, lambda: f"{name} to be restarted; console:\n{self.tail()}")

    def all_ready(self) -> bool:
        """Every service answers 200 on /readyz (what `newsmon status` checks)."""
        return all(self._ready(self.ports[name.upper()]) for name in SERVICE_NAMES)

    @staticmethod
    def _ready(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run a ``newsmon`` command against this stack, as a user in its directory would."""
        return subprocess.run([sys.executable, "-m", "newsmon", *arguments], env=self.env, cwd=self.root,
                              capture_output=True, text=True, timeout=120)

    def replay(self, path: Path) -> None:
        result = self.cli("replay", str(path))
        assert result.returncode == 0, result.stdout + result.stderr

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One API call with the token `newsmon up` keeps in the data dir: rules to the alerter, the rest
        (subscriptions, silences) to the notifier."""
        token = (self.data_dir / "api-token").read_text().strip()
        port = self.ports["ALERTER" if path.startswith("/api/rules") else "NOTIFIER"]
        return json_call(f"http://127.0.0.1:{port}{path}", method, body, token, timeout_s=30)

    def topic(self, name: str) -> list[dict[str, Any]]:
        """Every JSON message on one of this stack's topics now."""
        return read_json_topic(self.settings, name)

    def console_lines(self) -> list[str]:
        """What the running `newsmon up` printed so far."""
        return list(self.console.lines) if self.console else []

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.console_lines()[-lines:])


@dataclass
class Subscriber:
    """A receiver subscribed to this stack's `rafah` alerts with its own secret."""

    receiver: Receiver
    secret: str
    subscription_id: str

    def deliveries(self) -> dict[str, list[str]]:
        """Alert title -> the webhook-id of every request that carried it, all with valid signatures."""
        found: dict[str, list[str]] = defaultdict(list)
        for request in self.receiver.snapshot():
            assert signature_valid(self.secret, request.headers, request.body, request.arrived_at), request.headers
            found[request.json["title"]].append(request.headers["webhook-id"])
        return found

    def received(self, titles: set[str]) -> bool:
        return titles <= set(self.deliveries())


def assert_alerted_once(up: UpStack, subscriber: Subscriber, titles: set[str], resend_allowed: bool,
                        on_this_broker: bool = True) -> None:
    """Each title's alert reached the subscriber under one webhook-id, and that id is its alert's id on the
    ``alerts`` topic (when ``on_this_broker``: published since the broker last started). A request or
    a message repeated after a crash is allowed (``resend_allowed``) only with the same id: receivers
    dedupe on it."""
    deliveries = subscriber.deliveries()
    on_topic: dict[str, list[str]] = defaultdict(list)
    for alert in up.topic("alerts"):
        on_topic[alert["title"]].append(alert["alert_id"])
    for title in sorted(titles):
        ids = deliveries[title]
        assert len(set(ids)) == 1, f"{title}: one webhook-id, got {Counter(ids)}"
        assert resend_allowed or len(ids) == 1, f"{title}: delivered {len(ids)} times without a crash to explain it"
        published = on_topic[title]
        if on_this_broker:
            assert set(published) == set(ids), f"{title}: alerts topic ids {published} vs webhook-ids {ids}"
        else:
            assert set(published) <= set(ids), f"{title}: alerts topic ids {published} vs webhook-ids {ids}"
        assert resend_allowed or len(published) <= 1, f"{title}: published {len(published)} times"


def seconds_since(start: float) -> float:
    return time.monotonic() - start
