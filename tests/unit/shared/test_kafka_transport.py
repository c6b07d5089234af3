"""Every consuming service waits on an empty fetch only as long as the setting says, not faust's 1.5 s."""

from __future__ import annotations

from pathlib import Path

import faust

from shared.settings import Settings
from shared.stream_app import create_app, raw_topic


async def worker_fetch_wait_ms(app: faust.App) -> int:
    """The wait of every fetch of the app's worker consumer: aiokafka hands it to its fetcher at start."""
    thread = app.consumer._thread  # built, never started: the loop it would run in is closed below
    consumer = thread._create_worker_consumer(app.transport)
    try:
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
