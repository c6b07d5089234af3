"""``newsmon deliveries list|replay``: webhook deliveries the notifier gave up on, and sending them again.

A delivery lands in the failed list when its retries ran past the horizon, the receiver answered
410 or another 4xx, its URL was refused, or its subscription was disabled. ``replay`` queues each
one again with fresh attempts in the running notifier's Redis queue; the notifier sends them. A
record is replayed to its target as configured now (the subscription's current secret, the URL
still in ``NEWSMON_WEBHOOK_URLS`` or an active rule's ``webhooks``, as the alerters publish them in
the rule directory); others stay in the list.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from redis.exceptions import RedisError

from services.notifier.webhooks.queue import DeliveryQueue, ReplayReport, Target
from services.notifier.webhooks.subscriptions import SubscriptionStore
from services.notifier.webhooks.url_safety import redact_url
from shared.redis_client import connect
from shared.rule_directory import RuleDirectory
from shared.settings import Settings, get_settings


async def configured_urls(settings: Settings, directory: RuleDirectory) -> dict[str, str]:
    """Target key -> URL of every URL target configured now: the settings' and the active rules' webhooks."""
    urls = list(settings.webhook_urls)
    urls += [url for entry in (await directory.entries()).values() for url in entry.webhooks]
    return {Target(url).key: url for url in urls}


async def replay_failed_deliveries(settings: Settings) -> ReplayReport:
    """Queue every failed delivery again whose target still exists (see the module docstring)."""
    redis = connect(settings)
    try:
        store, urls = SubscriptionStore(redis), await configured_urls(settings, RuleDirectory(redis))

        async def resolve(record: dict[str, Any]) -> Target | None:
            if record.get("subscription_id"):
                subscription = await store.get(record["subscription_id"])
                return Target(subscription.url, subscription.id) if subscription and subscription.active else None
            url = urls.get(record.get("target", ""))
            return Target(url) if url else None

        return await DeliveryQueue(redis).replay_failed(resolve)
    finally:
        await redis.aclose()


async def failed_deliveries(settings: Settings) -> list[dict[str, Any]]:
    """The failed list, oldest first, each URL redacted (``redact_url``).

    Records are stored redacted, but with the redaction of the release that stored them: they
    are redacted again as they are shown, so a token an older release kept is not printed.
    """
    redis = connect(settings)
    try:
        records = await DeliveryQueue(redis).failures()
    finally:
        await redis.aclose()
    return [{**record, "url": redact_url(str(record["url"]))} if record.get("url") else record for record in records]


async def silenced_deliveries(settings: Settings) -> list[dict[str, Any]]:
    """The deliveries silences held back, oldest first, each with its subscription and silence id."""
    redis = connect(settings)
    try:
        return await DeliveryQueue(redis).silenced()
    finally:
        await redis.aclose()


def redis_unreachable(settings: Settings, error: Exception) -> typer.Exit:
    """The CLI's error for a Redis it cannot reach, without the URL's password."""
    typer.secho(f"error: cannot reach Redis at {redact_url(settings.redis)}: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def deliveries_replay_command() -> None:
    """Queue every failed webhook delivery again; the running notifier sends them."""
    settings = get_settings()
    try:
        report = asyncio.run(replay_failed_deliveries(settings))
    except (RedisError, OSError) as error:
        raise redis_unreachable(settings, error) from None
    typer.echo(f"re-queued {report.replayed} failed deliveries")
    if report.unknown_target:
        typer.echo(f"{report.unknown_target} left in the failed list: their URL is no longer configured, "
                   "or their subscription was deleted or disabled")
    if report.expired:
        typer.echo(f"{report.expired} left in the failed list: the alert is older than the queue keeps")


def deliveries_list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per delivery.")] = False,
    silenced: Annotated[bool, typer.Option(
        "--silenced", help="The deliveries silences held back (never sent), with the silence id, instead.")] = False,
) -> None:
    """Print the webhook deliveries that were given up on (or held back by a silence), oldest first."""
    settings = get_settings()
    try:
        records = asyncio.run(silenced_deliveries(settings) if silenced else failed_deliveries(settings))
    except (RedisError, OSError) as error:
        raise redis_unreachable(settings, error) from None
    for record in records:
        if as_json:
            typer.echo(json.dumps(record))
        elif silenced:
            typer.echo(f"{record.get('silenced_at', '-')}  silenced  {record.get('url')}  alert "
                       f"{record.get('alert_id')}  subscription {record.get('subscription_id')}  by "
                       f"{record.get('silence_id')}")
        else:
            typer.echo(f"{record.get('failed_at', '-')}  {record.get('outcome', '?'):<9} "
                       f"{record.get('attempts', 0):>3} attempts  {record.get('url')}  alert {record.get('alert_id')}"
                       f"  ({record.get('last_error')})")
    if not as_json:
        typer.echo(f"{len(records)} {'silenced' if silenced else 'failed'} deliveries")
