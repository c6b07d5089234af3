"""Every consuming service waits on an empty fetch only as long as the setting says, not faust's 1.5 s, and
commits only when it has something to commit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import faust
from faust.types import TP, Message

from newsmon.stack import service_environment
from shared.kafka_transport import IDLE_WAKE_S, FetchWaitTransport
from shared.settings import Settings
from shared.stream_app import create_app, raw_topic


async def worker_fetch_wait_ms(app: faust.App) -> int:
    """The wait of every fetch of the app's worker consumer: aiokafka hands it to its fetcher at start."""
    thread = app.consumer._thread  # built, never started: the loop it would run in is closed below
    consumer = thread._create_worker_consumer(app.transport)
    try:
        # Idle, aiokafka's fetch loop wakes only this often (its default 0.2 s was a fifth of a service's idle CPU).
        assert consumer._consumer_timeout == IDLE_WAKE_S == 5.0
        return int(consumer._fetch_max_wait_ms)
    finally:
        await consumer.stop()
        thread.thread_loop.close()


async def test_consuming_services_wait_at_most_the_setting_and_others_keep_fausts_long_wait(
    tmp_path: Path,
) -> None:
    # One app per process: create_app registers faust's Prometheus sensors.
    app = create_app("dedupe", Settings(_env_file=None, data_dir=tmp_path, kafka_fetch_max_wait_s=0.03), [])
    raw_articles = raw_topic(app, "articles.raw")
    assert await worker_fetch_wait_ms(app) == 1500, "no agent (the fetcher): nothing to be quick about"

    @app.agent(raw_articles)
    async def dedupe(stream: faust.StreamT[bytes]) -> None:
        async for _ in stream:
            pass

    assert await worker_fetch_wait_ms(app) == 30


def test_the_embedded_stack_gives_its_services_the_long_wait_and_kafka_the_short_one(tmp_path: Path) -> None:
    embedded = Settings(_env_file=None, data_dir=tmp_path)
    on_kafka = Settings(_env_file=None, data_dir=tmp_path, kafka_bootstrap="kafka:9092")
    chosen = Settings(_env_file=None, data_dir=tmp_path, kafka_fetch_max_wait_s=0.2)

    # A service of `newsmon up` sees KAFKA_BOOTSTRAP set, so the stack resolves the wait for it.
    assert service_environment(embedded)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "25.0"
    assert service_environment(on_kafka)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "0.5"
    assert service_environment(chosen)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "0.2"



async def test_an_idle_consumer_commits_only_after_a_message_was_acknowledged(tmp_path: Path) -> None:
    # A plain app with newsmon's transport (create_app would register the Prometheus sensors a second time).
    app = faust.App("commit-timer", broker="kafka://127.0.0.1:1", store="memory://", datadir=tmp_path,
                    autodiscover=False)
    app.transport = FetchWaitTransport(app.conf.broker_consumer, app, 0.03)
    consumer = app.consumer
    tp = TP("articles.raw", 0)
    committed: list[list[int]] = []
    left_behind: list[int] = []  # an offset the commit cannot take yet (an earlier message still in work)

    async def commit(*_: object, **__: object) -> bool:
        committed.append(list(consumer._acked[tp]))
        consumer._acked[tp][:] = left_behind  # as faust's commit, which takes what it committed
        return True

    consumer.commit = commit  # type: ignore[method-assign]
    consumer.commit_interval = 0.05
    handler = asyncio.ensure_future(consumer._commit_handler(consumer))

    def acknowledge(offset: int) -> None:
        """What faust's stream loop does for a processed message: record the offset, then tell the sensors."""
        consumer._acked[tp].append(offset)
        app.sensors.on_message_out(tp, offset, cast(Message, None))

    try:
        await asyncio.sleep(0.5)
        assert committed == [], "nothing acknowledged: no commit (faust's timer would have woken ten times)"

        acknowledge(7)
        acknowledge(8)
        await asyncio.sleep(0.5)
        assert committed == [[7, 8]], "acknowledged: committed once, an interval later, then asleep again"

        left_behind.append(10)
        acknowledge(10)
        await asyncio.sleep(0.5)
        assert len(committed) > 3, "an offset the commit left is tried again every interval, as faust would"
        left_behind.clear()
        await asyncio.sleep(0.2)
        settled = len(committed)
        await asyncio.sleep(0.3)
        assert len(committed) == settled
    finally:
        handler.cancel()
        await asyncio.gather(handler, return_exceptions=True)
        consumer._thread.thread_loop.close()  # built with the consumer, never started
