"""Every service's consumer waits on an empty fetch only as long as the setting says, not faust's 1.5 s."""

from __future__ import annotations

from pathlib import Path

from shared.settings import Settings
from shared.stream_app import create_app, raw_topic


async def test_the_worker_consumer_waits_at_most_the_configured_fetch_wait(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, kafka_fetch_max_wait_s=0.03)
    app = create_app("dedupe", settings, readiness=[])
    raw_topic(app, "articles.raw")
    thread = app.consumer._thread  # built, never started: the loop it would run in is closed below
    consumer = thread._create_worker_consumer(app.transport)
    try:
        # aiokafka hands this to its fetcher when the consumer starts: it is the wait of every fetch.
        assert consumer._fetch_max_wait_ms == 30
    finally:
        await consumer.stop()
        thread.thread_loop.close()
