"""faust's aiokafka transport, with the longest wait of a consumer's empty fetch set by newsmon.

faust builds every worker consumer with ``fetch_max_wait_ms=1500`` and offers no setting for it.
The right wait depends on the broker (``Settings.fetch_max_wait_s``): on the embedded stack the
broker's relay answers a waiting fetch as soon as a message is stored, so a long wait only saves
idle polling; on Apache Kafka aiokafka asks again for a partition it has just drained only when
its fetch in flight returns, so the wait bounds the latency of that partition's next message.
``create_app`` installs this transport so the wait is that setting, in every app with an agent.
"""

from __future__ import annotations

from typing import cast

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import AppT
from yarl import URL

# How often an idle consumer's fetch loop looks for work nothing woke it for (aiokafka's default: 0.2 s).
FETCH_LOOP_SAFETY_WAKE_S = 1.0


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Built when the worker starts, so every agent is declared by now. An app without agents (the
        # fetcher) reads only faust's own bookkeeping topic: no hop to speed up, so no quick idle fetches.
        if self.app.agents:
            # aiokafka reads this when the consumer starts, which faust does only after building it.
            consumer._fetch_max_wait_ms = cast(FetchWaitTransport, transport).fetch_max_wait_ms
        # Read at start too. aiokafka's fetch loop otherwise wakes every 0.2 s to look for work that seeks,
        # resets, pauses, consumption and rebalances already wake it for.
        consumer._consumer_timeout = FETCH_LOOP_SAFETY_WAKE_S
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class FetchWaitTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport whose worker consumers wait at most ``fetch_max_wait_s`` on an empty fetch."""

    Consumer = _Consumer

    def __init__(self, url: list[URL], app: AppT, fetch_max_wait_s: float) -> None:
        super().__init__(url, app)
        self.fetch_max_wait_ms = max(1, round(fetch_max_wait_s * 1000))
