"""Alerts and copies of their stories, turned into ``alert.fired`` and ``alert.updated`` notices.

The notifier's two agents call this: ``on_alert`` for each alert (registered with its story, then
routed with the story's outlets so far), ``on_copy`` for each copy on ``articles.duplicates``. When
``growth`` decides a story grew enough, each alert of the story (but the one that brought
the news) goes out as ``alert.updated`` with the next sequence number, to the subscriptions that
asked for updates. Each event's decision is kept (``store``), so a redelivered alert or copy
queues the same messages again, which the queue holds once per (alert, sequence) and target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from services.notifier.channels.notice import AlertNotice
from services.notifier.dispatch import Dispatcher, Routing
from services.notifier.stories.growth import Update, UpdatePolicy, on_alert, on_copy, watched_entities
from services.notifier.stories.store import StoryStore
from shared.schemas import Alert, DuplicateArticle


class StoryUpdates:
    """Routes alerts with their story's outlets, and sends updates when their stories grow."""

    def __init__(self, store: StoryStore, dispatcher: Dispatcher, policy: UpdatePolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.policy = policy
        self.clock = clock

    async def on_alert(self, alert: Alert) -> Routing:
        """Route a first alert; another rule's alert on a story that alerted may update the story's others."""
        entities = watched_entities(alert, self.policy.watched_labels)
        now = self.clock()
        state, update = await self.store.apply(alert.story_id, f"alert:{alert.alert_id}",
                                               lambda story: on_alert(story, entities, now, self.policy), alert)
        routing = await self.dispatcher.dispatch(AlertNotice("alert.fired", alert, outlets=state.outlets))
        if update is not None:
            await self._send(alert.story_id, update, _at(state.first_seen_s), skip=alert.alert_id)
        return routing

    async def on_copy(self, copy: DuplicateArticle) -> Update | None:
        """Count a copy of a story; the update it made, if any."""
        now = self.clock()
        state, update = await self.store.apply(copy.story_id, f"copy:{copy.article_id}",
                                               lambda story: on_copy(story, copy.story_outlets, now, self.policy))
        if update is not None:
            await self._send(copy.story_id, update, _at(state.first_seen_s))
        return update

    async def _send(self, story_id: str, update: Update, first_seen: datetime | None, skip: str | None = None) -> None:
        for alert in await self.store.alerts(story_id):
            if alert.alert_id != skip:
                await self.dispatcher.dispatch(AlertNotice(
                    "alert.updated", alert, outlets=update.outlets, update_sequence=update.sequence,
                    update_reason=update.reason, first_seen=first_seen))


def _at(epoch_s: float | None) -> datetime | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, timezone.utc)
