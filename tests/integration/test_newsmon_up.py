"""`newsmon up`, the command behind `make run`, as a user runs it: alerts print as they fire, the
subscription API works with the token file, a receiver that subscribes afterwards gets the samples'
alerts signed, and stopping leaves nothing listening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from newsmon.embedded import port_open
from services.alerter.webhooks.subscriptions import new_secret
from tests.conftest import REPO
from tests.integration.conftest import free_ports
from tests.waiting import wait_until


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


def test_up_prints_alerts_serves_the_api_and_stops_cleanly(
    tmp_path: Path, sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    names = ["EMBEDDED_KAFKA", "EMBEDDED_REDIS", "FETCHER", "DEDUPE", "NER", "ALERTER"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("NEWSMON_") and name not in ("KAFKA_BOOTSTRAP", "REDIS_URL")}
    env |= {f"NEWSMON_{name}_PORT": str(port) for name, port in ports.items()}
    env |= {"NEWSMON_DATA_DIR": str(tmp_path / ".newsmon"), "NEWSMON_WEBHOOK_ALLOW_PRIVATE": "true"}
    expected = Counter(rule for rules in expected_rules.values() for rule in rules)

    up = Console.start([sys.executable, "-m", "newsmon", "up", "--replay", str(sample_dir)], env, tmp_path)
    receiver = None
    try:
        wait_until(lambda: Counter(line.split()[1] for line in up.starting("ALERT ")) == expected or up.process.poll(),
                   240, lambda: f"alert lines {sorted(expected.elements())}; console:\n" + "\n".join(up.lines))
        assert up.process.poll() is None, "\n".join(up.lines)
        token_file = tmp_path / ".newsmon" / "api-token"
        assert any(str(token_file) in line for line in up.starting("  api ")), "the console says where the token is"

        secret = new_secret()
        receiver = Console.start([sys.executable, str(REPO / "examples" / "webhook_receiver.py"), "--secret", secret,
                                  "--port", "0"], dict(os.environ), tmp_path)
        [listening] = wait_until(lambda: receiver.starting("listening on "), 60, "the example receiver")
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports['ALERTER']}/api/subscriptions", method="POST",
            data=json.dumps({"url": listening.removeprefix("listening on ") + "/hook", "secret": secret,
                             "rules": ["iran-sanctions", "rafah"], "replay_hours": 1}).encode(),
            headers={"authorization": f"Bearer {token_file.read_text().strip()}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201 and json.loads(response.read())["replayed"] == sum(expected.values())

        wait_until(lambda: Counter(line.split()[1] for line in receiver.starting("VERIFIED ")) == expected, 60,
                   lambda: "the receiver to verify every alert; it printed:\n" + "\n".join(receiver.lines))
        assert not receiver.starting("REJECTED") and not receiver.starting("DUPLICATE")
    finally:
        up.stop()
        if receiver is not None:
            receiver.stop()

    assert up.process.returncode == 0, "\n".join(up.lines)
    assert up.lines[-1] == "stopped."
    assert [name for name, port in ports.items() if port_open("127.0.0.1", port)] == []
