"""faust's aiokafka transport, with the longest wait of a consumer's empty fetch set by newsmon.

faust builds every worker consumer with ``fetch_max_wait_ms=1500`` and offers no setting for it.
The right wait depends on the broker (``Settings.fetch_max_wait_s``): on the embedded stack the
broker's relay answers a waiting fetch as soon as a message is stored, so a long wait only saves
idle polling; on Apache Kafka aiokafka asks again for a partition it has just drained only when
its fetch in flight returns, so the wait bounds the latency of that partition's next message.
``create_app`` installs this transport so the wait is that setting, in every app with an agent.

Idle wakes. faust runs aiokafka in a thread of its own, and an idle service used to wake several
times a second for nothing: faust's fetch loop asks the thread for records with a 1 s timeout (each
ask crosses the threads twice), aiokafka's fetch loop looked for work every second, and mode's two
keepalives of the thread ran every second. Each wake costs both event loops; five services' worth
was most of the idle stack's CPU. Every one of these waits ends at once on what it waits for (a
record stored, a seek, a rebalance, a stop), so ``IDLE_WAKE_S`` only bounds how long nothing
happens; a service's idle CPU fell from about 0.5% to 0.25% of one core. faust's commit timer woke
the service every ``broker_commit_interval`` (2.8 s) to find nothing acknowledged since the last
commit: it now waits for a message to be acknowledged, then commits that interval later as faust
did, and its livelock check (a warning after minutes without progress) runs every
``LIVELOCK_CHECK_S`` instead of every 7 s.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Any, cast

import aiokafka
from faust.sensors import Sensor
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import AppT, Message
from faust.types.tuples import TP
from mode import Service
from yarl import URL

# How long an idle consumer thread, and faust's ask for records, wait with nothing to wake them
# (aiokafka's fetch loop: 0.2 s by default; faust's ask and mode's keepalives: 1 s).
IDLE_WAKE_S = 5.0
# How often faust's check for partitions that stopped making progress runs; it warns only after
# ``broker_commit_livelock_soft_timeout`` (minutes), so every 7 s (faust's) bought nothing.
LIVELOCK_CHECK_S = 30.0
# mode logs an error when the thread has not answered a keepalive for this long (3 keepalives).
_KEEPALIVE_LATE_S = 3 * IDLE_WAKE_S


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
        consumer._consumer_timeout = IDLE_WAKE_S
        return consumer

    async def getmany(self, active_partitions: set[TP] | None, timeout: float) -> RecordMap:
        """faust asks with a 1 s timeout in a loop; records end the wait at once, so a longer one only saves wakes."""
        return await super().getmany(active_partitions, max(timeout, IDLE_WAKE_S))

    @Service.task
    async def _thread_keepalive(self) -> None:
        """mode's keeps the parent loop scheduled every second; asyncio's thread-safe calls wake it anyway."""
        async for _ in self.itertimer(IDLE_WAKE_S, name=f"_thread_keepalive-{self.label}"):
            pass

    async def _keepalive2(self) -> None:
        """mode's check that the thread still answers, every ``IDLE_WAKE_S`` instead of every 1.1 s."""
        while not self.should_stop:
            await self.sleep(IDLE_WAKE_S)
            if self.last_wakeup_at and monotonic() - self.last_wakeup_at > _KEEPALIVE_LATE_S:
                self.log.error("Thread keepalive is not responding...")
            await self._wakeup_timer_in_thread()


class _AckSignal(Sensor):
    """Wakes a consumer's commit timer when a message is acknowledged. A sensor, because faust's compiled
    stream loop marks messages acknowledged itself, without calling ``Consumer.ack``."""

    def __init__(self, acked: asyncio.Event) -> None:
        super().__init__()
        self.acked = acked

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        self.acked.set()


class _Consumer(faust_aiokafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acked_since_commit = asyncio.Event()
        self.app.sensors.add(_AckSignal(self._acked_since_commit))

    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    @Service.task
    async def _commit_handler(self) -> None:
        """faust's commit every ``commit_interval``, but only after a message was acknowledged since the last.

        Offsets are committed as late as before (an interval after the work), so a crash redelivers no more
        than it did; a rebalance or a stop still commits at once (faust's own ``on_partitions_revoked``).
        Acknowledged offsets a commit could not take yet (an earlier message of the partition still in work)
        are tried again an interval later, as faust's timer would.
        """
        while not self.should_stop:
            await self.wait(self._acked_since_commit.wait())
            self._acked_since_commit.clear()
            await self.sleep(self.commit_interval)
            await self.commit()
            if any(self._acked.values()):
                self._acked_since_commit.set()

    @Service.task
    async def _commit_livelock_detector(self) -> None:
        """faust's check that every assigned partition makes progress, every ``LIVELOCK_CHECK_S``."""
        async for _ in self.itertimer(LIVELOCK_CHECK_S, name="livelock"):
            if not self.app.rebalancing:
                await self.verify_all_partitions_active()


class FetchWaitTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport whose worker consumers wait at most ``fetch_max_wait_s`` on an empty fetch."""

    Consumer = _Consumer

    def __init__(self, url: list[URL], app: AppT, fetch_max_wait_s: float) -> None:
        super().__init__(url, app)
        self.fetch_max_wait_ms = max(1, round(fetch_max_wait_s * 1000))
