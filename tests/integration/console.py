"""A command run as a user runs it in a terminal, its output lines collected as they come."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.integration.conftest import free_ports

PORT_NAMES = ("EMBEDDED_KAFKA", "EMBEDDED_REDIS", "FETCHER", "DEDUPE", "NER", "ALERTER", "NOTIFIER")


def stack_ports() -> dict[str, int]:
    """Free ports for a ``newsmon up`` of a test, by the name of their ``NEWSMON_<NAME>_PORT`` variable."""
    return dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))


def up_environment(ports: dict[str, int], data_dir: Path) -> dict[str, str]:
    """The environment of a ``newsmon up`` on ``ports`` and ``data_dir``, and nothing of the caller's newsmon
    settings, so it never collides with ``make run`` or the session's stack."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("NEWSMON_") and name not in ("KAFKA_BOOTSTRAP", "REDIS_URL")}
    env |= {f"NEWSMON_{name}_PORT": str(port) for name, port in ports.items()}
    return env | {"NEWSMON_DATA_DIR": str(data_dir), "NEWSMON_WEBHOOK_ALLOW_PRIVATE": "true"}


@dataclass
class Console:
    """A process whose stdout lines are collected as they come."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str], cwd: Path) -> Console:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True)
        console = cls(process)
        console.reader = threading.Thread(target=console._collect, args=(process.stdout,), daemon=True)
        console.reader.start()
        return console

    def _collect(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def starting(self, prefix: str) -> list[str]:
        return [line for line in list(self.lines) if line.startswith(prefix)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.reader is not None:
            self.reader.join(10)  # the output ends with the process
        if self.process.stdout is not None:
            self.process.stdout.close()
