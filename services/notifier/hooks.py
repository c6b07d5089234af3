"""Where silences and digests plug into the dispatch of an alert: two small ports, a no-op each.

The dispatcher asks, for every (alert, subscription) pair, whether a silence holds the alert back
(``Silences.silencing``), and hands an alert for a digest subscription to ``Digests.add`` instead of
queuing it (an urgent alert skips the digest). ``silence_store.SilenceStore`` and ``digests.Digests``
implement them on Redis; the dispatcher's unit tests use in-memory twins.
"""

from __future__ import annotations

from typing import Protocol

from services.notifier.channels.notice import AlertNotice
from services.notifier.webhooks.subscriptions import Subscription
from shared.schemas import Alert


class SilenceRef(Protocol):
    """What the dispatcher needs of a silence: its id, recorded with what it held back."""

    @property
    def id(self) -> str: ...


class Silences(Protocol):
    """Active silences, by what they match (rule, story, subscription)."""

    async def silencing(self, alert: Alert, subscription_id: str) -> SilenceRef | None: ...


class Digests(Protocol):
    """Collects alerts for digest subscriptions, to be sent once per period."""

    async def add(self, subscription: Subscription, notice: AlertNotice) -> None: ...
