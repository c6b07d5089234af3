"""Subscriptions in Redis: a URL, its format, its own signing secret, and the rules it wants.

Subscriptions are shared by every notifier instance. ``format`` says how an alert is written for
the receiver: ``standard`` (signed Standard Webhooks JSON), ``slack``, ``teams``, ``discord`` (chat
webhook URLs, which carry their own token) or ``email`` (a ``mailto:`` URL); ``updates`` asks for
``alert.updated`` messages as a story grows; ``digest`` collects alerts into one message per period.
A subscription whose receiver answers ``410 Gone`` is disabled (kept, marked with the reason) and
receives nothing more; deleting it cancels what was still queued for it. Secrets are stored here
because signing needs them, and leave Redis only once: in the answer that creates the subscription.
Everything shown elsewhere goes through ``public_view``, which masks the secret and strips tokens from the URL.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from services.notifier.webhooks.signing import SECRET_PREFIX
from services.notifier.webhooks.url_safety import redact_url
from shared.schemas import utcnow

KEY_PREFIX = "newsmon:subscriptions"
Format = Literal["standard", "slack", "teams", "discord", "email"]
FORMATS: tuple[Format, ...] = ("standard", "slack", "teams", "discord", "email")

# KEYS: subscriptions hash, disabled hash; ARGV: id, disabled record. Only an existing one is disabled.
_DISABLE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""


class Subscription(BaseModel):
    """One subscriber; ``rules`` empty means every rule."""

    id: str
    url: str
    secret: str = Field(repr=False)
    rules: list[str] = Field(default_factory=list)
    format: Format = "standard"
    updates: bool = False
    digest: dict[str, Any] | None = Field(default=None, description="The digest period, as the API accepted it.")
    created_at: datetime = Field(default_factory=utcnow)
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def wants(self, rule_id: str) -> bool:
        """True when alerts of this rule go to this subscriber."""
        return not self.rules or rule_id in self.rules


def new_secret() -> str:
    """A fresh ``whsec_`` secret: 32 random bytes, base64, as the Standard Webhooks convention writes it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_subscription_id() -> str:
    return "sub_" + secrets.token_hex(8)


def mask_secret(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one: ``whsec_…Xy9=``."""
    prefix = SECRET_PREFIX if secret.startswith(SECRET_PREFIX) else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) >= 16 else f"{prefix}…"


def public_view(subscription: Subscription) -> dict[str, object]:
    """A subscription as the API lists it: secret masked, URL without query string or credentials."""
    return {
        "id": subscription.id,
        "url": redact_url(subscription.url),
        "rules": subscription.rules,
        "format": subscription.format,
        "updates": subscription.updates,
        "digest": subscription.digest,
        "secret": mask_secret(subscription.secret),
        "created_at": subscription.created_at.isoformat(),
        "status": "active" if subscription.active else "disabled",
        "disabled_at": subscription.disabled_at.isoformat() if subscription.disabled_at else None,
        "disabled_reason": subscription.disabled_reason,
    }


class SubscriptionStore:
    """Subscriptions in two Redis hashes: id -> subscription, and id -> why it was disabled."""

    def __init__(self, redis: Redis, key_prefix: str = KEY_PREFIX) -> None:
        self.redis = redis
        self.key = key_prefix
        self.disabled_key = f"{key_prefix}:disabled"
        self._disable = redis.register_script(_DISABLE)

    async def add(self, subscription: Subscription) -> None:
        await self.redis.hset(self.key, subscription.id, subscription.model_dump_json(
            exclude={"disabled_at", "disabled_reason"}))

    async def get(self, subscription_id: str) -> Subscription | None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.key, subscription_id)
            pipe.hget(self.disabled_key, subscription_id)
            stored, disabled = await pipe.execute()
        return None if stored is None else self._combine(stored, disabled)

    async def all(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        stored = await self.redis.hgetall(self.key)
        disabled = await self.redis.hgetall(self.disabled_key)
        found = [self._combine(value, disabled.get(key)) for key, value in stored.items()]
        return sorted(found, key=lambda subscription: (subscription.created_at, subscription.id))

    async def active_for(self, rule_id: str) -> list[Subscription]:
        """The active subscriptions that want alerts of this rule."""
        return [sub for sub in await self.all() if sub.active and sub.wants(rule_id)]

    async def delete(self, subscription_id: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.key, subscription_id)
            pipe.hdel(self.disabled_key, subscription_id)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def disable(self, subscription_id: str, reason: str) -> bool:
        """Mark a subscription disabled; False when it no longer exists."""
        record = json.dumps({"disabled_at": utcnow().isoformat(), "disabled_reason": reason})
        return bool(await self._disable(keys=[self.key, self.disabled_key], args=[subscription_id, record]))

    @staticmethod
    def _combine(stored: bytes | str, disabled: bytes | str | None) -> Subscription:
        fields = json.loads(stored)
        if disabled is not None:
            fields.update(json.loads(disabled))
        return Subscription.model_validate(fields)
