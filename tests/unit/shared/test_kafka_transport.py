"""Every consuming service waits on an empty fetch only as long as the setting says, not faust's 1.5 s."""

from __future__ import annotations

from pathlib import Path

import faust

from newsmon.stack import service_environment
from shared.kafka_transport import IDLE_WAKE_S
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
    assert service_environment(embedded)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "5.0"
    assert service_environment(on_kafka)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "0.5"
    assert service_environment(chosen)["NEWSMON_KAFKA_FETCH_MAX_WAIT_S"] == "0.2"
