"""`newsmon up`, the command behind `make run`, as a user runs it: alerts print as they fire, the
subscription API works with the token file, a receiver that subscribes afterwards gets the samples'
alerts signed, and stopping leaves nothing listening."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections import Counter
from pathlib import Path

from newsmon.embedded import port_open
from services.notifier.webhooks.subscriptions import new_secret
from tests.conftest import REPO
from tests.integration.console import Console, stack_ports, up_environment
from tests.waiting import wait_until


def test_up_prints_alerts_serves_the_api_and_stops_cleanly(
    tmp_path: Path, sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    ports = stack_ports()
    env = up_environment(ports, tmp_path / ".newsmon")
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
            f"http://127.0.0.1:{ports['NOTIFIER']}/api/subscriptions", method="POST",
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
