"""Webhook URLs that reach inside the network are refused unless private targets are allowed."""

from __future__ import annotations

import pytest

from services.alerter.webhooks.url_safety import UnsafeWebhookURL, check_webhook_url, redact_url

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
