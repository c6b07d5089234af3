"""Story state for updates in Redis, changed once per event, safely from any notifier instance.

Keys under ``newsmon:story_updates``, each kept ``STORY_TTL_S`` after its last change:

- ``:state:<story id>`` the ``StoryState`` as JSON;
- ``:decisions:<story id>`` hash of event (``copy:<article id>``, ``alert:<alert id>``) -> the update it
  made (or ``null``), so a redelivered event gets the decision it got the first time, and its
  update is queued again under the same message id (queued once);
- ``:alerts:<story id>`` hash of alert id -> the alert, what an update is about.

``apply`` changes a story under ``WATCH``: two instances handling events of one story at once
each retry on a conflict instead of overwriting each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.notifier.stories.growth import StoryState, Update
from shared.schemas import Alert

KEY_PREFIX = "newsmon:story_updates"
STORY_TTL_S = 7 * 24 * 3600

Change = Callable[[StoryState], tuple[StoryState, Update | None]]


class StoryStore:
    """One story's state, the decision each event got, and the story's alerts."""

    def __init__(self, redis: Redis, key_prefix: str = KEY_PREFIX, ttl_s: int = STORY_TTL_S) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s

    def _key(self, kind: str, story_id: str) -> str:
        return f"{self.key_prefix}:{kind}:{story_id}"

    async def apply(self, story_id: str, event: str, change: Change,
                    alert: Alert | None = None) -> tuple[StoryState, Update | None]:
        """Apply ``change`` for ``event`` once (keeping ``alert`` with the story); a repeated event is not
        applied again and returns the story now with the update it made the first time."""
        state_key, decisions_key = self._key("state", story_id), self._key("decisions", story_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(state_key, decisions_key)
                    state = _state(await pipe.get(state_key))
                    prior = await pipe.hget(decisions_key, event)
                    if prior is not None:
                        return state, _update(prior)
                    state, update = change(state)
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                    pipe.set(state_key, json.dumps({**asdict(state), "entities": sorted(state.entities)}),
                             ex=self.ttl_s)
                    pipe.hset(decisions_key, event, json.dumps(asdict(update) if update else None))
                    pipe.expire(decisions_key, self.ttl_s)
                    if alert is not None:
                        pipe.hset(self._key("alerts", story_id), alert.alert_id, alert.model_dump_json())
                        pipe.expire(self._key("alerts", story_id), self.ttl_s)
                    await pipe.execute()
                    return state, update
                except WatchError:
                    continue

    async def alerts(self, story_id: str) -> list[Alert]:
        """The story's alerts, oldest first."""
        stored = await self.redis.hgetall(self._key("alerts", story_id))
        return sorted((Alert.model_validate_json(raw) for raw in stored.values()), key=lambda alert: alert.fired_at)


def _state(raw: bytes | str | None) -> StoryState:
    if raw is None:
        return StoryState()
    fields = json.loads(raw)
    return StoryState(**{**fields, "entities": frozenset(fields.get("entities", ()))})


def _update(raw: bytes | str) -> Update | None:
    fields = json.loads(raw)
    return None if fields is None else Update(**fields)
