"""The embedded stack as the benchmarks run it: as a user would, on free ports, in a throwaway folder.

``stack_settings`` gives every process its own ports and data folder, so a benchmark never meets
a running ``make run`` or test session; ``TimedReceiver`` is a webhook receiver that notes when
each request arrived, for fetch-to-webhook latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from newsmon.embedded import free_port
from newsmon.stack import Stack
from shared import topics
from shared.kafka_clients import consumer
from shared.settings import Settings

API_TOKEN = "bench-token"
RECEIVER_SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="


def stack_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings of a stack of its own: free ports, ``data_dir`` for everything it writes, the API on."""
    values: dict[str, Any] = {
        "_env_file": None, "embedded_kafka_port": free_port(), "embedded_redis_port": free_port(),
        "fetcher_port": free_port(), "dedupe_port": free_port(), "ner_port": free_port(),
        "alerter_port": free_port(), "notifier_port": free_port(), "data_dir": data_dir, "api_token": API_TOKEN,
        "webhook_allow_private": True,
    }
    return Settings(**{**values, **overrides})


def files_source(data_dir: Path, folder: Path, interval_s: float = 1.0) -> Path:
    """A sources file with one folder source polled every ``interval_s``, as a user would write it."""
    path = data_dir / "sources.yaml"
    path.write_text(f"sources:\n  - name: inbox\n    kind: files\n    path: {folder}\n    interval_s: {interval_s}\n")
    return path


@contextmanager
def running(settings: Settings) -> Iterator[Stack]:
    """The whole stack, ready; stopped (every process it started) on the way out."""
    stack = Stack(settings)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@dataclass(frozen=True)
class Arrival:
    at: float
    body: dict[str, Any]


@dataclass
class TimedReceiver:
    """A webhook receiver on 127.0.0.1 that answers 200 and keeps each request with its arrival time."""

    port: int = field(default_factory=free_port)
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> TimedReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                arrived = time.time()
                self.send_response(200)
                self.end_headers()
                with receiver.lock:
                    receiver.arrivals.append(Arrival(arrived, json.loads(body)))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def first_arrivals(self) -> dict[str, Arrival]:
        """The first delivery of each alert id (a redelivery is the receiver's to dedupe)."""
        with self.lock:
            found: dict[str, Arrival] = {}
            for arrival in self.arrivals:
                found.setdefault(arrival.body["alert_id"], arrival)
            return found


def subscribe(stack: Stack, url: str) -> None:
    """Subscribe ``url`` to every rule through the notifier's API, as a user would."""
    request = urllib.request.Request(
        stack.url("notifier", "/api/subscriptions"), method="POST",
        data=json.dumps({"url": url, "secret": RECEIVER_SECRET}).encode(),
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # an error status raises HTTPError
        response.read()


def alert_publish_times(settings: Settings) -> dict[str, float]:
    """When each alert on the ``alerts`` topic was published (its record timestamp), by alert id."""
    found: dict[str, float] = {}
    for value, timestamp in topic_records(settings, topics.ALERTS):
        found.setdefault(json.loads(value)["alert_id"], timestamp)  # a redelivered alert keeps its first time
    return found


def topic_values(settings: Settings, topic: str) -> list[bytes]:
    """Every message value of ``topic``, from its beginning."""
    return [value for value, _ in topic_records(settings, topic)]


def topic_records(settings: Settings, topic: str) -> list[tuple[bytes, float]]:
    """(value, record timestamp in seconds) of every message of ``topic``, from its beginning."""

    async def read() -> list[tuple[bytes, float]]:
        reader = consumer(settings, topic)
        await reader.start()
        try:
            found: list[tuple[bytes, float]] = []
            while batches := await reader.getmany(timeout_ms=2000):
                found += [(record.value, record.timestamp / 1000) for records in batches.values()
                          for record in records if record.value is not None]
            return found
        finally:
            await reader.stop()

    return asyncio.run(read())


async def reader_at_end(settings: Settings, *topic_names: str) -> AIOKafkaConsumer:
    """A started group-less consumer positioned at the current end of every partition of the topics, so it
    sees exactly what is published from now on (a ``latest`` subscription resolves its position later)."""
    reader = consumer(settings)
    await reader.start()
    partitions = [TopicPartition(topic, number) for topic in topic_names
                  for number in sorted(reader.partitions_for_topic(topic) or ())]
    reader.assign(partitions)
    await reader.seek_to_end(*partitions)
    for partition in partitions:
        await reader.position(partition)
    return reader


def ready(port: int) -> bool:
    """Whether the service on ``port`` answers its /readyz with 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time (user + system) each process of the stack and its children (ner's worker processes)
    have used so far, by name."""
    processes = {**{name: managed for name, managed in stack.services.items()},
                 **{managed.name: managed for managed in stack.infrastructure}}
    return {name: process_tree_cpu_seconds(managed.process.pid) for name, managed in processes.items()}


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its living descendants (0 for one that ended meanwhile)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_tree_cpu_seconds(child) for child in children)
