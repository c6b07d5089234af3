"""Alerts published on a broker that was since replaced by an empty one are published again.

The embedded broker keeps its topics in memory: when it restarts (killed, or the whole stack
stopped), an alert it had acknowledged on ``alerts`` but the notifier had not read yet is gone,
while the alert log says ``published``, so a replay of the articles does not send it again. So the
alerter keeps the body of each alert it publishes for ``NEWSMON_ALERT_REPUBLISH_WINDOW_S`` (a Redis
stream trimmed by age), and when it starts against a broker whose identity differs from the one
it last recorded, it publishes that window again before recording the new identity. The notifier
queues each alert once per target (and counts it once in a digest or a story update), so an alert
it had already handled is not sent twice.

The identity is ``NEWSMON_BROKER_EPOCH``, which ``newsmon up`` draws anew each time it starts the
embedded broker. Apache Kafka keeps its topics, so there it is unset and nothing is republished;
a restart of the alerter alone sees the same epoch and republishes nothing either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from redis.asyncio import Redis

from shared.failure_policy import retry_transient
from shared.logs import log_event
from shared.redis_client import text
from shared.schemas import Alert

logger = logging.getLogger(__name__)

RECENT_KEY = "newsmon:alerts:recent"
EPOCH_KEY = "newsmon:alerts:broker_epoch"
_FIELD = "alert"


def must_republish(recorded: str | None, current: str | None) -> bool:
    """True when the broker now in use is not the one the recent alerts were published on.

    ``current`` None: a durable broker (Kafka), nothing to do. ``recorded`` None: no alerter ever
    recorded an epoch in this Redis, so it holds no window to republish either way.
    """
    return current is not None and recorded is not None and recorded != current


class RecentAlerts:
    """The bodies of the alerts published in the last ``window_s`` seconds, oldest first."""

    def __init__(self, redis: Redis, window_s: float) -> None:
        self.redis = redis
        self.window_s = window_s

    def _oldest_id(self) -> str:
        return str(int((time.time() - self.window_s) * 1000))

    async def add(self, alert: Alert) -> None:
        """Keep ``alert`` (called once the broker acknowledged it); entries past the window are trimmed."""
        await self.redis.xadd(RECENT_KEY, {_FIELD: alert.model_dump_json()}, minid=self._oldest_id(),
                              approximate=True)

    async def in_window(self) -> list[Alert]:
        """The alerts published within the window (an alert published twice appears twice)."""
        entries = await self.redis.xrange(RECENT_KEY, min=self._oldest_id())
        return [Alert.model_validate_json(_field(fields)) for _, fields in entries or [] if fields]


def _field(fields: Mapping[bytes | str, bytes | str]) -> str:
    for key, value in fields.items():
        if text(key) == _FIELD:
            return text(value)
    raise KeyError(_FIELD)


async def republish_if_new_broker(redis: Redis, epoch: str | None, recent: RecentAlerts,
                                  publish: Callable[[Alert], Awaitable[None]]) -> int:
    """At start: publish the window again when the broker is a new one; how many alerts were published.

    The epoch is recorded only after the last one is acknowledged, so an alerter that dies midway
    republishes the window again at its next start (the notifier dedupes on alert id).
    """
    if epoch is None:
        return 0
    raw = await retry_transient(lambda: redis.get(EPOCH_KEY), "alerts.broker_epoch")
    recorded = None if raw is None else text(raw)
    republished = 0
    if must_republish(recorded, epoch):
        alerts = await retry_transient(recent.in_window, "alerts.recent")
        for alert in alerts:
            await publish(alert)
        republished = len(alerts)
        log_event(logger, "alerts.republished_after_new_broker", count=republished, window_s=recent.window_s)
    if recorded != epoch:
        await retry_transient(lambda: redis.set(EPOCH_KEY, epoch), "alerts.broker_epoch")
    return republished
