"""Webhook URLs: refused when they reach inside the network (unless allowed), at check time and as the client
connects; and redacted wherever they are shown, tokens in the path included."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiohttp import web
from redis.asyncio import Redis

from services.notifier.webhooks.delivery import WebhookDelivery
from services.notifier.webhooks.queue import Item
from services.notifier.webhooks.url_safety import (
    UnsafeWebhookURL,
    check_webhook_url,
    redact_url,
    webhook_client,
    webhook_guard,
)
from shared.address_guard import UnsafeAddress
from shared.guarded_http import guarded_client
from shared.logs import configure_logging
from tests.fake_network import PUBLIC_ADDRESS, ScriptedResolver, StandInNetwork

INTERNAL = [
    "http://127.0.0.1:8080/hook",
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:9000/hook",
    "http://localhost:8080/hook",
    "https://192.168.1.10/hook",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
async def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookURL, match="NEWSMON_WEBHOOK_ALLOW_PRIVATE"):
        await check_webhook_url(url, allow_private=False)


@pytest.mark.parametrize("url", INTERNAL)
async def test_internal_addresses_are_allowed_when_configured(url: str) -> None:
    await check_webhook_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/hook", "file:///etc/passwd", "93.184.216.34/hook"])
async def test_only_http_and_https_are_accepted(url: str) -> None:
    with pytest.raises(UnsafeWebhookURL, match="scheme"):
        await check_webhook_url(url, allow_private=True)


async def test_a_url_without_host_is_refused() -> None:
    with pytest.raises(UnsafeWebhookURL, match="no host"):
        await check_webhook_url("https:///hook", allow_private=True)


async def test_a_public_literal_address_is_accepted_without_dns() -> None:
    await check_webhook_url("https://93.184.216.34/hook?token=x", allow_private=False)
    await check_webhook_url("http://[2606:2800:220:1:248:1893:25c8:1946]:8443/hook", allow_private=False)


async def test_the_message_never_carries_the_query_string_or_credentials() -> None:
    with pytest.raises(UnsafeWebhookURL) as caught:
        await check_webhook_url("http://user:pw@127.0.0.1/hook?token=s3cret", allow_private=False)
    assert "s3cret" not in str(caught.value) and "pw" not in str(caught.value)


def test_redacted_urls_keep_host_and_path_only() -> None:
    redacted = redact_url("https://user:pw@hooks.example.org:8443/a/b?token=s3cret#x")
    assert redacted == "https://hooks.example.org:8443/a/b"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/xoxbAbCdEfGhIjKlMnOpQrStUv",
     "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/***"),
    ("https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/onlylettersnodigits",
     "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/***"),
    ("https://discord.com/api/webhooks/112233445566778899/Zx-9_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
     "https://discord.com/api/webhooks/112233445566778899/***"),
    ("https://discord.com/api/v10/webhooks/112233/short", "https://discord.com/api/v10/webhooks/112233/***"),
    ("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
     "https://api.telegram.org/bot***/sendMessage"),
    ("https://ops.example.org/hooks/9f86d081884c7d659a2feaa0c55ad015/alerts?sig=1",
     "https://ops.example.org/hooks/***/alerts"),
    ("https://alice:hunter2@ops.example.org/newsmon/alerts-2025", "https://ops.example.org/newsmon/alerts-2025"),
    ("http://[bad/hook?token=s3cret", "<unreadable URL>"),
    # Teams: a Workflows URL signs in the query string, a legacy connector in the path.
    ("https://prod-42.westeurope.logic.azure.com:443/workflows/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d/triggers/manual/"
     "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sig=AbC123",
     "https://prod-42.westeurope.logic.azure.com:443/workflows/***/triggers/manual/paths/invoke"),
    ("https://contoso.webhook.office.com/webhookb2/0a1b2c3d-1111-2222-3333-444455556666@0a1b2c3d-1111-2222-3333-"
     "444455556666/IncomingWebhook/9f8e7d6c5b4a39281706f5e4d3c2b1a0/0a1b2c3d-1111-2222-3333-444455556666",
     "https://contoso.webhook.office.com/webhookb2/***/IncomingWebhook/***/***"),
    ("mailto:desk@example.org", "mailto:desk@example.org"),
])
def test_tokens_in_the_path_are_redacted_and_plain_paths_stay_readable(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown, "redacting twice changes nothing"


async def test_the_webhook_client_connects_only_to_the_address_it_checked() -> None:
    async with receiving() as receiver:
        network = StandInNetwork({PUBLIC_ADDRESS: receiver.port})
        resolver = ScriptedResolver({"hooks.test": [[PUBLIC_ADDRESS], ["169.254.169.254"]]})
        limits = httpx.Limits(max_keepalive_connections=0)
        async with guarded_client(webhook_guard(False, resolver), network=network, limits=limits) as client:
            first = await client.post("http://hooks.test/hook", content=b"{}")
            with pytest.raises(UnsafeAddress, match="169.254.169.254, a link-local address"):
                await client.post("http://hooks.test/hook", content=b"{}")
    assert first.status_code == 204 and receiver.posts == 1
    assert network.attempts == [PUBLIC_ADDRESS], "the second, rebound answer never got a connection"


async def test_a_host_that_turns_private_after_the_check_is_a_refused_delivery_not_a_retry() -> None:
    network = StandInNetwork({})
    client = guarded_client(webhook_guard(False), network=network)
    # The delivery's own check passes (as if DNS still answered public); the client's guard, as it connects, refuses.
    delivery = WebhookDelivery(Redis(), client, secret=None, allow_private=True, max_attempts=3, backoff_s=1.0)
    try:
        result = await delivery.sender.post(Item("alert-1", "http://10.0.0.7/hook?token=s3cret"), b"{}", None)
    finally:
        await client.aclose()
    assert result.outcome == "refused" and result.error is not None
    assert "NEWSMON_WEBHOOK_ALLOW_PRIVATE" in result.error and "s3cret" not in result.error
    assert network.attempts == []


async def test_webhook_urls_never_reach_the_log_through_httpx(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    token = "xoxbAbCdEfGhIjKlMnOpQrStUv"
    try:
        configure_logging("text", "INFO")
        root.addHandler(caplog.handler)
        async with receiving() as receiver, webhook_client(allow_private=True) as client:
            await client.post(f"http://127.0.0.1:{receiver.port}/services/T0/B0/{token}?key=s3cret", content=b"{}")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    assert receiver.posts == 1
    assert token not in caplog.text and "s3cret" not in caplog.text


class Receiver:
    def __init__(self) -> None:
        self.port = 0
        self.posts = 0


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that counts what it is sent and answers 204."""
    receiver = Receiver()

    async def receive(request: web.Request) -> web.Response:
        receiver.posts += 1
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    runner = web.AppRunner(app, access_log=None)  # the receiver's log is not newsmon's
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield receiver
    finally:
        await runner.cleanup()
