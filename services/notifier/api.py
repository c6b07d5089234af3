"""The subscription API, served by the notifier's web server (``NEWSMON_NOTIFIER_PORT``, with ``/metrics``).

::

    POST   /api/subscriptions            {url, format?, secret?, rules?, updates?, digest?, replay_hours?}
                                                                   -> 201 (a generated secret is shown once)
    GET    /api/subscriptions                                      -> 200 (secrets masked)
    DELETE /api/subscriptions/{id}                                 -> 204
    POST   /api/subscriptions/{id}/test                            -> 202 (a test message in its format, queued)
    POST/GET /api/silences, DELETE /api/silences/{id}                  -> silences (``silence_api.py``)

Watch rules are the alerter's API (``/api/rules`` on its port), with the same token.

Every request needs ``Authorization: Bearer <NEWSMON_API_TOKEN>``; without that setting the API
answers 503. While Redis is away it answers 503 too, with the reason and ``Retry-After``
(``shared.http_api``), instead of failing or hanging. ``replay_hours`` also queues the alerts
of the last hours that the new subscription wants, so a subscriber that arrives after the news
still gets it. ``SubscriptionAPI`` holds the behaviour as plain async methods returning an
``ApiResponse``; ``register_routes`` only adapts them to faust views. A subscription's rules must be
active rules, as the alerters publish them in the rule directory (``shared.rule_directory``).
"""

from __future__ import annotations

import binascii
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import faust
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notifier.channels.notice import AlertNotice
from services.notifier.digest_schedule import MIN_PERIOD_S, DigestRefused, parse_digest
from services.notifier.dispatch import Routing
from services.notifier.notice_bodies import notice_body
from services.notifier.rendering import RenderError, mailto_address
from services.notifier.webhooks.queue import DeliveryQueue, Target
from services.notifier.webhooks.signing import secret_key
from services.notifier.webhooks.subscriptions import (
    Format,
    Subscription,
    SubscriptionStore,
    mask_secret,
    new_secret,
    new_subscription_id,
    public_view,
)
from services.notifier.webhooks.url_safety import UnsafeWebhookURL, check_webhook_url, redact_url
from shared.article_ids import sha256_hex
from shared.http_api import ApiResponse, Endpoint, error_response, read_then
from shared.kafka_clients import TopicReadError
from shared.logs import log_event
from shared.schemas import Alert, MatchedSentence, describe_validation_error, utcnow

logger = logging.getLogger(__name__)
MIN_SECRET_BYTES = 16
MAX_REPLAY_HOURS = 7 * 24
# Routes a notice to one subscription (``Dispatcher.dispatch`` with ``only``).
Route = Callable[[AlertNotice, Subscription], Awaitable[Routing]]


class NewSubscription(BaseModel):
    """The body of ``POST /api/subscriptions``."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, description="http(s) URL, or mailto:address for the email format.")
    format: Format = Field(default="standard", description="How alerts are written for this receiver.")
    secret: str | None = Field(default=None, min_length=1)
    rules: list[str] = Field(default_factory=list, description="Rule ids; empty = every rule.")
    updates: bool = Field(default=False, description="Also send alert.updated as an alerted story grows.")
    digest: dict[str, Any] | None = Field(
        default=None, description='One message per period instead of one per alert: {"every_s": N} or '
        '{"at": "HH:MM", "timezone": "Area/City"}.')
    replay_hours: float | None = Field(
        default=None, gt=0, le=MAX_REPLAY_HOURS, description="Also send the wanted alerts of the last N hours."
    )


def trial_alert(event_id: str, subscription_id: str) -> Alert:
    """The alert a chat or email test message shows: clearly a test, with the parts a real alert has."""
    sentence = "This is a test message from newsmon: your alerts will look like this."
    return Alert(alert_id=event_id, rule_id="newsmon-test", rule_name="newsmon test", article_id=event_id,
                 story_id=event_id, title=f"Test message for subscription {subscription_id}", source="newsmon",
                 sentences=[MatchedSentence(text=sentence, start=0, end=len(sentence), matches=[])])


def trial_message(event_id: str, subscription_id: str, fmt: Format) -> str:
    """What ``POST /api/subscriptions/{id}/test`` queues: the signed test event, or a test alert for other formats."""
    if fmt == "standard":
        return trial_event_body(event_id, subscription_id)
    return notice_body(AlertNotice("test", trial_alert(event_id, subscription_id)))


def trial_event_body(event_id: str, subscription_id: str) -> str:
    """The body of a test webhook: signed and sent like an alert, recognizable by its ``type``."""
    return json.dumps({
        "type": "newsmon.test", "event_id": event_id, "subscription_id": subscription_id,
        "sent_at": utcnow().isoformat(),
        "message": "Test event from newsmon: if its signature verifies with your secret, so will your alerts'.",
    })


class SubscriptionAPI:
    """What the endpoints do; subscriptions from the settings are listed and testable, not deletable."""

    def __init__(self, *, store: SubscriptionStore, queue: DeliveryQueue, route: Route,
                 alerts_since: Callable[[datetime], Awaitable[list[Alert]]],
                 rule_ids: Callable[[], Awaitable[list[str]]], allow_private: bool, settings_urls: list[str],
                 settings_secret: str | None, email_enabled: bool = False,
                 digest_min_period_s: int = MIN_PERIOD_S) -> None:
        self.email_enabled = email_enabled
        self.digest_min_period_s = digest_min_period_s
        self.store = store
        self.queue = queue
        self.route = route
        self.alerts_since = alerts_since
        self.rule_ids = rule_ids
        self.allow_private = allow_private
        self.settings_subscriptions = {f"settings-{sha256_hex(url)[:12]}": url for url in settings_urls}
        self.settings_secret = settings_secret

    async def create(self, body: bytes) -> ApiResponse:
        try:
            request = NewSubscription.model_validate_json(body or b"{}")
        except ValidationError as error:
            return error_response(422, describe_validation_error(error))
        problem = await self._check(request)
        if problem:
            return error_response(422, problem)
        generated = request.secret is None
        subscription = Subscription(id=new_subscription_id(), url=request.url.strip(),
                                    secret=request.secret or new_secret(), rules=list(dict.fromkeys(request.rules)),
                                    format=request.format, updates=request.updates,
                                    digest=self._digest(request.digest))
        await self.store.add(subscription)
        view: dict[str, Any] = {**public_view(subscription), "source": "api"}
        if request.replay_hours is not None:
            # After adding: an alert firing meanwhile reaches the subscription either way, and
            # queuing is idempotent per (alert, subscription), so it is never sent twice.
            try:
                view["replayed"] = await self._replay(subscription, request.replay_hours)
            except TopicReadError as error:
                await self.store.delete(subscription.id)
                return error_response(503, f"nothing created: cannot replay recent alerts: {error}")
        log_event(logger, "subscription.created", subscription_id=subscription.id, url=redact_url(subscription.url),
                  rules=",".join(subscription.rules) or "*", replayed=view.get("replayed"))
        if generated:
            view["secret"] = subscription.secret  # the only time it is shown
        return ApiResponse(201, view)

    async def _replay(self, subscription: Subscription, hours: float) -> int:
        """Route the alerts of the last ``hours`` that the subscription wants to it alone, as they were routed
        when they fired (silences and digests included); how many were queued."""
        queued = 0
        for alert in await self.alerts_since(utcnow() - timedelta(hours=hours)):
            if subscription.wants(alert.rule_id):
                queued += (await self.route(AlertNotice("alert.fired", alert), subscription)).queued
        return queued

    async def list(self) -> ApiResponse:
        listed: list[dict[str, object]] = [
            {"id": subscription_id, "url": redact_url(url), "rules": [], "source": "settings", "status": "active",
             "secret": mask_secret(self.settings_secret) if self.settings_secret else None}
            for subscription_id, url in self.settings_subscriptions.items()
        ]
        listed += [{**public_view(subscription), "source": "api"} for subscription in await self.store.all()]
        return ApiResponse(200, {"subscriptions": listed})

    async def delete(self, subscription_id: str) -> ApiResponse:
        if subscription_id in self.settings_subscriptions:
            return error_response(409, f"{subscription_id} comes from NEWSMON_WEBHOOK_URLS; remove it there")
        if not await self.store.delete(subscription_id):
            return error_response(404, f"no subscription {subscription_id}")
        log_event(logger, "subscription.deleted", subscription_id=subscription_id)
        return ApiResponse(204)

    async def send_test(self, subscription_id: str) -> ApiResponse:
        fmt: Format = "standard"
        if subscription_id in self.settings_subscriptions:
            target = Target(self.settings_subscriptions[subscription_id])
        else:
            subscription = await self.store.get(subscription_id)
            if subscription is None:
                return error_response(404, f"no subscription {subscription_id}")
            if not subscription.active:
                return error_response(409, f"subscription {subscription_id} is disabled: "
                                           f"{subscription.disabled_reason}")
            target, fmt = Target(subscription.url, subscription.id), subscription.format
        event_id = "test_" + secrets.token_hex(8)
        await self.queue.enqueue_message(event_id, trial_message(event_id, subscription_id, fmt), [target])
        log_event(logger, "subscription.test_queued", subscription_id=subscription_id, alert_id=event_id)
        return ApiResponse(202, {"event_id": event_id, "subscription_id": subscription_id})

    async def _check(self, request: NewSubscription) -> str | None:
        """Why the subscription cannot be created, in words naming the field, or None."""
        problem = await self._check_url(request)
        if problem:
            return problem
        if request.digest is not None:
            try:
                parse_digest(request.digest, self.digest_min_period_s)
            except DigestRefused as error:
                return str(error)
        if request.secret is not None:
            try:
                key = secret_key(request.secret)
            except (binascii.Error, ValueError):
                return "secret: a secret written whsec_... must be base64 after the prefix"
            if len(key) < MIN_SECRET_BYTES:
                return f"secret: use at least {MIN_SECRET_BYTES} bytes, or omit it and one is generated"
        active = await self.rule_ids()
        unknown = [rule_id for rule_id in request.rules if rule_id not in active]
        if unknown:
            return f"rules: unknown rule id {unknown[0]!r}; active rules: {', '.join(active)}"
        return None

    def _digest(self, digest: dict[str, Any] | None) -> dict[str, Any] | None:
        """The digest period as it is kept and shown: its canonical form (``daily_at`` is written ``at``)."""
        return None if digest is None else parse_digest(digest, self.digest_min_period_s).model_dump()

    async def _check_url(self, request: NewSubscription) -> str | None:
        """Why the URL does not fit the format: an email address for email, a public http(s) URL otherwise."""
        if request.format == "email":
            try:
                mailto_address(request.url)
            except RenderError as error:
                return f"url: {error}"
            if not self.email_enabled:
                return ("url: a mailto: subscription needs email set up on the notifier: NEWSMON_SMTP_HOST and "
                        "NEWSMON_SMTP_FROM")
            return None
        if request.url.strip().lower().startswith("mailto:"):
            return 'format: a mailto: url needs "format": "email"'
        try:
            await check_webhook_url(request.url, self.allow_private)
        except UnsafeWebhookURL as error:
            return f"url: {error}"
        except OSError as error:
            return f"url: webhook host of {redact_url(request.url)} does not resolve: {error.strerror or error}"
        return None


def register_routes(app: faust.App, api: SubscriptionAPI, endpoint: Endpoint) -> None:
    """Serve the subscription API on the notifier's web server, behind ``endpoint``'s token and readiness checks."""
    endpoint.route(app, "/api/subscriptions", get=lambda _: api.list(),
                   post=lambda request: read_then(request, api.create))
    endpoint.route(app, "/api/subscriptions/{subscription_id}",
                   delete=lambda _, subscription_id: api.delete(subscription_id))
    endpoint.route(app, "/api/subscriptions/{subscription_id}/test",
                   post=lambda _, subscription_id: api.send_test(subscription_id))
