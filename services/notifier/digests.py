"""Digests: one message per period listing the stories alerted on in it, instead of one per alert.

The dispatcher hands a digest subscription's notices to ``Digests.add`` (urgent alerts bypass it);
``Digests.send_due``, run every ``NEWSMON_DIGEST_POLL_S`` by the notifier, finds each subscription
whose period has ended with entries waiting, lets one instance claim that period, builds the
``DigestNotice`` (newest first) and hands it to ``deliver``, which queues it on the durable delivery
queue under ``digest_message_id``, named by its subscription and period end (a digest built twice,
by two instances or after a failure, is queued once). A period with nothing alerted sends nothing.
Entries live in Redis until their digest is queued (``digest_store.py``), so a restart of the
notifier between an alert and its digest loses nothing. The ``standard`` format of a digest, one
entry per story with its rules, is ``standard_digest_body``; the other formats render the notice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.digest_schedule import DigestRefused, DigestSchedule, parse_digest
from services.notifier.digest_store import DigestStore, PendingEntry
from shared.logs import log_event
from shared.schemas import SCHEMA_VERSION, Alert, utcnow

logger = logging.getLogger(__name__)


class DigestSubscriber(Protocol):
    """What digests need of a subscription (the notifier's ``Subscription`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def digest(self) -> dict[str, Any] | None: ...

    @property
    def active(self) -> bool: ...


Deliver = Callable[[Any, DigestNotice, str], Awaitable[object]]
"""Queue one digest for a subscription (as ``subscription_of`` gave it) under the given message id."""


def notice_entry(notice: AlertNotice) -> dict[str, Any]:
    """A notice as a digest entry kept in Redis (JSON-ready)."""
    return {"type": notice.type, "alert": notice.alert.model_dump(mode="json"), "outlets": notice.outlets,
            "update_sequence": notice.update_sequence, "update_reason": notice.update_reason,
            "silence_id": notice.silence_id,
            "first_seen": notice.first_seen.isoformat() if notice.first_seen else None}


def notice_from_entry(fields: dict[str, Any]) -> AlertNotice:
    """The notice a digest entry was made from."""
    first_seen = fields.get("first_seen")
    return AlertNotice(type=fields["type"], alert=Alert.model_validate(fields["alert"]), outlets=fields["outlets"],
                       update_sequence=fields["update_sequence"], update_reason=fields.get("update_reason"),
                       silence_id=fields.get("silence_id"),
                       first_seen=datetime.fromisoformat(first_seen) if first_seen else None)


def digest_notice(subscription_id: str, period_start: datetime, period_end: datetime,
                  notices: Sequence[AlertNotice]) -> DigestNotice | None:
    """The digest of these notices, newest alert first (then by alert id); None when there are none."""
    if not notices:
        return None
    ordered = sorted(notices, key=lambda notice: (notice.alert.fired_at, notice.alert.alert_id), reverse=True)
    return DigestNotice(subscription_id, period_start, period_end, tuple(ordered))


def digest_message_id(subscription_id: str, period_end: datetime) -> str:
    """The digest's ``webhook-id``: the same for every instance that builds it."""
    return f"digest_{subscription_id}_{int(period_end.timestamp())}"


def standard_digest_body(notice: DigestNotice, message_id: str) -> str:
    """The ``standard`` format of a digest: JSON with ``"type": "digest"``, one entry per story, newest first.

    A story lists every rule that fired on it in the period; ``silenced`` is true when silences
    held back all of its alerts (each rule then carries its ``silence_id``).
    """
    stories: dict[str, dict[str, Any]] = {}
    for item in notice.items:
        alert = item.alert
        first_seen = item.first_seen or alert.fired_at
        story = stories.setdefault(alert.story_id, {
            "story_id": alert.story_id, "title": alert.title, "url": alert.url, "source": alert.source,
            "outlets": item.outlets, "first_seen": first_seen, "last_alerted_at": alert.fired_at, "rules": [],
        })
        story["outlets"] = max(story["outlets"], item.outlets)
        story["first_seen"] = min(story["first_seen"], first_seen)
        story["rules"].append({"rule_id": alert.rule_id, "rule_name": alert.rule_name, "alert_id": alert.alert_id,
                               "type": item.type, "update_sequence": item.update_sequence,
                               "update_reason": item.update_reason, "silence_id": item.silence_id})
    listed = [{**story, "first_seen": story["first_seen"].isoformat(),
               "last_alerted_at": story["last_alerted_at"].isoformat(),
               "silenced": all(rule["silence_id"] for rule in story["rules"])} for story in stories.values()]
    return json.dumps({
        "schema_version": SCHEMA_VERSION, "type": "digest", "digest_id": message_id,
        "subscription_id": notice.subscription_id, "period_start": notice.period_start.isoformat(),
        "period_end": notice.period_end.isoformat(), "story_count": len(listed), "stories": listed,
    })


class Digests:
    """Collect a digest subscription's notices and send one digest per ended period, from any instance."""

    def __init__(self, store: DigestStore, subscription_of: Callable[[str], Awaitable[DigestSubscriber | None]],
                 deliver: Deliver, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.subscription_of = subscription_of
        self.deliver = deliver
        self.clock = clock

    async def add(self, subscription: DigestSubscriber, notice: AlertNotice) -> None:
        """Keep the notice for the subscription's next digest; a notice kept before (a redelivery) is not kept again."""
        added = await self.store.add(subscription.id, notice.alert.alert_id, notice.update_sequence,
                                     notice_entry(notice), self.clock().timestamp())
        if added:
            log_event(logger, "digest.entry_added", subscription_id=subscription.id, alert_id=notice.alert.alert_id,
                      silence_id=notice.silence_id)

    async def send_due(self) -> int:
        """Queue the digest of every subscription whose period has ended with entries waiting; how many."""
        now = self.clock()
        sent = 0
        for subscription_id in await self.store.subscriptions_pending():
            subscription = await self.subscription_of(subscription_id)
            if subscription is None or subscription.digest is None or not subscription.active:
                await self.store.drop(subscription_id)  # nobody left to send them to
                continue
            try:
                schedule = parse_digest(subscription.digest, min_period_s=1)
            except DigestRefused as error:  # stored by an older release: the others' digests still go
                log_event(logger, "digest.bad_schedule", logging.ERROR, subscription_id=subscription_id,
                          error=str(error))
                continue
            if await self._send_period(subscription, schedule, now):
                sent += 1
        return sent

    async def _send_period(self, subscription: DigestSubscriber, schedule: DigestSchedule, now: datetime) -> bool:
        """Build and queue the digest of the last ended period, if entries wait for it and this instance claims it."""
        period_end = schedule.last_boundary(now)
        end_s = period_end.timestamp()
        oldest = await self.store.oldest(subscription.id)
        if oldest is None or oldest >= end_s or not await self.store.claim(subscription.id, end_s):
            return False
        entries = await self.store.entries_before(subscription.id, end_s)
        # Entries left from periods missed while no notifier ran go in this digest, which then starts earlier.
        period_start = min(schedule.previous_boundary(period_end), schedule.last_boundary(_at(oldest)))
        notice = digest_notice(subscription.id, period_start, period_end, _notices(entries))
        if notice is not None:
            await self.deliver(subscription, notice, digest_message_id(subscription.id, period_end))
            log_event(logger, "digest.queued", subscription_id=subscription.id, items=len(notice.items),
                      period_start=period_start.isoformat(),
                      period_end=period_end.isoformat())
        await self.store.settle(subscription.id, end_s, entries, now.timestamp())
        return notice is not None


def _notices(entries: Sequence[PendingEntry]) -> list[AlertNotice]:
    return [notice_from_entry(entry.fields) for entry in entries]


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, timezone.utc)
