"""The embedded stack, started once per test session on ports of its own.

The broker's consumer-group join takes seconds, so every integration test shares one running
pipeline; tests tell their data apart by article ids, never by global counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from newsmon.stack import Stack, service_environment
from services.alerter.rule_engine.rules import default_rules_text
from shared.kafka_clients import consumer, producer
from shared.settings import Settings
from tests.channel_receivers import ChatFormat, ChatReceiver
from tests.integration.receiver import Receiver
from tests.news_site import NewsSite, news_site_in_thread
from tests.smtp_server import SmtpServer
from tests.waiting import wait_until

T = TypeVar("T")
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5"  # base64 of "secret-for-tests-only"
API_TOKEN = "token-for-tests-only"
UPDATE_THRESHOLDS = [2, 3]


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """The session's SMTP server on loopback: the notifier sends email subscriptions' messages there."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chat_receivers() -> Iterator[dict[ChatFormat, ChatReceiver]]:
    """A Slack, a Teams and a Discord webhook on loopback, each checking what that service documents."""
    formats: tuple[ChatFormat, ...] = ("slack", "teams", "discord")
    receivers = {fmt: ChatReceiver(fmt).start() for fmt in formats}
    yield receivers
    for chat in receivers.values():
        chat.stop()


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, so parallel test runs and `make run` never collide."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="session")
def news_site() -> Iterator[NewsSite]:
    """The local news site whose feed the session's fetcher polls."""
    with news_site_in_thread() as site:
        yield site


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver, news_site: NewsSite,
             smtp_server: SmtpServer) -> Settings:
    kafka, redis, fetcher, dedupe, ner, alerter, notifier = free_ports(7)
    # A copy of the shipped rules that tests may edit (and must restore) to watch the alerter reload.
    rules_file = tmp_path_factory.mktemp("rules") / "watch.yaml"
    rules_file.write_text(default_rules_text())
    return Settings(
        _env_file=None,
        kafka_bootstrap=None,
        redis_url=None,
        embedded_kafka_port=kafka,
        embedded_redis_port=redis,
        fetcher_port=fetcher,
        dedupe_port=dedupe,
        ner_port=ner,
        alerter_port=alerter,
        notifier_port=notifier,
        data_dir=tmp_path_factory.mktemp("newsmon"),
        webhook_urls=[receiver.url()],
        webhook_secret=WEBHOOK_SECRET,
        webhook_allow_private=True,
        webhook_backoff_s=0.2,
        log_format="json",
        feeds=[news_site.rss_url],
        feed_poll_s=2,
        fetch_allow_private=True,  # the news site is on 127.0.0.1, which the fetcher's guard refuses by default
        rules_path=rules_file,
        rules_reload_s=0.5,
        api_token=API_TOKEN,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_tls="none",
        smtp_from="newsmon@example.org",
        public_url=f"http://127.0.0.1:{notifier}",  # emails carry one-click unsubscribe links to the notifier
        # Small thresholds and no interval, so a handful of copies shows each update at once.
        update_outlet_thresholds=UPDATE_THRESHOLDS,
        update_min_interval_s=0,
        digest_min_period_s=1,  # digest tests use periods of seconds
        digest_poll_s=0.2,
    )


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Stack]:
    stack = Stack(settings)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def cli_env(stack: Stack) -> dict[str, str]:
    """Environment that points the ``newsmon`` CLI at the test stack."""
    return {**os.environ, **service_environment(stack.settings)}


def reloads(stack: Stack, outcome: str) -> float:
    """Rule file changes the alerter has seen, by outcome (ok: now active; error: previous rules kept)."""
    return metric(stack, "alerter", "newsmon_rule_reloads_total", outcome=outcome)


@pytest.fixture
def rules_file(stack: Stack) -> Iterator[Path]:
    """The running alerter's rule file; the shipped rules are back (and active) after the test."""
    path = stack.settings.rules_path
    assert path is not None
    yield path
    if path.read_text() != default_rules_text():
        done = reloads(stack, "ok")
        path.write_text(default_rules_text())
        wait_until(lambda: reloads(stack, "ok") > done, 60, "the shipped rules to be active again")


def metric(stack: Stack, service: str, name: str, **labels: str) -> float:
    """Current value of one sample of a service's /metrics (0 when absent)."""
    with urllib.request.urlopen(stack.url(service, "/metrics"), timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def read_topic(settings: Settings, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every message on a topic right now, as (key, value)."""

    async def read() -> list[tuple[bytes | None, bytes]]:
        reader = consumer(settings, topic)
        await reader.start()
        try:
            found: list[tuple[bytes | None, bytes]] = []
            while batches := await reader.getmany(timeout_ms=1500):
                found += [(record.key, record.value) for records in batches.values() for record in records]
            return found
        finally:
            await reader.stop()

    return asyncio.run(read())


def read_json_topic(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """The JSON messages on a topic; other tests' deliberately broken messages are left out."""
    found = []
    for _, value in read_topic(settings, topic):
        try:
            found.append(json.loads(value.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
    return found


def produce(settings: Settings, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """Publish raw (key, value) pairs and wait for the broker's acknowledgement."""

    async def send() -> None:
        writer = producer(settings)
        await writer.start()
        try:
            for key, value in messages:
                await writer.send_and_wait(topic, value, key=key)
        finally:
            await writer.stop()

    asyncio.run(send())


def replay_cli(cli_env: dict[str, str], *paths: Path) -> str:
    """Run ``newsmon replay`` like a user would and return its output."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "newsmon", "replay", *map(str, paths)],
        env=cli_env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
