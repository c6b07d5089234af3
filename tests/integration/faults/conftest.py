"""One `newsmon up` per test module, started as `make run` starts it, with a webhook subscriber.

The process-fault tests signal its processes by pid and watch it recover; a test module gets a
stack of its own because the faults (a dead broker above all) would disturb the session's stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.notifier.webhooks.subscriptions import new_secret
from tests.integration.console import stack_ports, up_environment
from tests.integration.faults.up_stack import Subscriber, UpStack
from tests.integration.receiver import Receiver

SOURCE_POLL_S = 1


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the stack's fetcher polls every second (a `files` source)."""
    return tmp_path_factory.mktemp("inbox")


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory, inbox: Path) -> Iterator[UpStack]:
    root = tmp_path_factory.mktemp("up")
    sources = root / "sources.yaml"
    sources.write_text(f"sources:\n  - name: inbox\n    kind: files\n    path: {inbox}\n"
                       f"    interval_s: {SOURCE_POLL_S}\n")
    env = up_environment(ports := stack_ports(), root / ".newsmon")
    env |= {"NEWSMON_SOURCES_PATH": str(sources), "NEWSMON_LOG_FORMAT": "json", "NEWSMON_WEBHOOK_BACKOFF_S": "0.5"}
    stack = UpStack(root, env, ports).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def subscriber(up: UpStack) -> Iterator[Subscriber]:
    """A receiver subscribed through the API to the `rafah` rule, as a user subscribes one."""
    receiver = Receiver().start()
    secret = new_secret()
    status, created = up.api("POST", "/api/subscriptions", {"url": receiver.url(), "secret": secret,
                                                            "rules": ["rafah"]})
    assert status == 201, created
    yield Subscriber(receiver, secret, created["id"])
    receiver.stop()
