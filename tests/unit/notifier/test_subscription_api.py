"""The subscription API's gatekeeping: token, request validation and URL safety, before anything is stored.

The Redis client points at a port nothing listens on: every request here must be answered
without touching storage (the stored paths run against the real stack in tests/integration).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
from redis.asyncio import Redis

from newsmon.embedded import free_port
from services.notifier.api import SubscriptionAPI
from services.notifier.channels.notice import AlertNotice
from services.notifier.dispatch import Routing
from services.notifier.webhooks.queue import DeliveryQueue
from services.notifier.webhooks.subscriptions import (
    Subscription,
    SubscriptionStore,
    mask_secret,
    new_secret,
    public_view,
)
from shared.http_api import ApiResponse, TokenCheck, unless_unavailable
from shared.readiness import redis_answers
from shared.schemas import Alert
from shared.settings import Settings

TOKEN = "s3cret-token"


async def default_rule_ids() -> list[str]:
    return ["iran-sanctions", "rafah"]


async def no_routing(notice: AlertNotice, subscription: Subscription) -> Routing:
    raise AssertionError("a refused request must not route anything")


async def no_history(since: datetime) -> list[Alert]:
    raise AssertionError("a refused request must not read the alerts topic")


def api(allow_private: bool = False) -> SubscriptionAPI:
    unused = Redis.from_url("redis://127.0.0.1:9/0")
    return SubscriptionAPI(store=SubscriptionStore(unused), queue=DeliveryQueue(unused), route=no_routing,
                           alerts_since=no_history,
                           rule_ids=default_rule_ids, allow_private=allow_private,
                           settings_urls=[], settings_secret=None)


def error_of(response: ApiResponse) -> str:
    assert response.body is not None
    return str(response.body["error"])


def test_without_a_configured_token_the_api_is_disabled() -> None:
    for check in (TokenCheck(None), TokenCheck.from_settings(Settings(_env_file=None))):
        response = check.refusal(f"Bearer {TOKEN}")
        assert response is not None and response.status == 503
        assert error_of(response) == "API disabled: set NEWSMON_API_TOKEN"
    assert TokenCheck.from_settings(Settings(_env_file=None, api_token=TOKEN)).refusal(f"Bearer {TOKEN}") is None


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_missing_or_wrong_token_is_401(header: str | None) -> None:
    response = TokenCheck(TOKEN).refusal(header)
    assert response is not None and response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in json.dumps(response.body)


def test_the_right_token_passes_in_any_scheme_case() -> None:
    assert TokenCheck(TOKEN).refusal(f"Bearer {TOKEN}") is None
    assert TokenCheck(TOKEN).refusal(f"bearer {TOKEN}") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{", "Invalid JSON"),
        (b"{}", "url: Field required"),
        (b'{"url": "https://93.184.216.34/h", "rulez": []}', "rulez: Extra inputs are not permitted"),
        (b'{"url": "ftp://93.184.216.34/h"}', "scheme must be http or https"),
        (b'{"url": "http://10.0.0.7/hook?token=abc"}',
         "10.0.0.7, a private address; set NEWSMON_WEBHOOK_ALLOW_PRIVATE"),
        (b'{"url": "https://93.184.216.34/h", "secret": "whsec_@@@"}', "must be base64 after the prefix"),
        (b'{"url": "https://93.184.216.34/h", "secret": "short"}', "use at least 16 bytes"),
        (b'{"url": "https://93.184.216.34/h", "rules": ["rafah", "gaza"]}',
         "rules: unknown rule id 'gaza'; active rules: iran-sanctions, rafah"),
        (b'{"url": "https://93.184.216.34/h", "replay_hours": 0}', "replay_hours: Input should be greater than 0"),
        (b'{"url": "https://93.184.216.34/h", "replay_hours": 169}',
         "replay_hours: Input should be less than or equal to 168"),
        (b'{"url": "https://93.184.216.34/h", "format": "mattermost"}',
         "format: Input should be 'standard', 'slack', 'teams', 'discord' or 'email'"),
        (b'{"url": "mailto:desk@example.org", "format": "email"}',
         "url: a mailto: subscription needs email set up on the notifier: NEWSMON_SMTP_HOST"),
        (b'{"url": "mailto:desk@example.org"}', 'format: a mailto: url needs "format": "email"'),
        (b'{"url": "https://93.184.216.34/h", "format": "email"}', "url: an email subscription's url must be mailto:"),
        (b'{"url": "https://93.184.216.34/h", "digest": {"every_s": 5}}', "digest.every_s: at least 60 s"),
        (b'{"url": "https://93.184.216.34/h", "digest": {"at": "25:00", "timezone": "Europe/Paris"}}', "digest.at"),
        (b'{"url": "https://93.184.216.34/h", "updates": "often"}', "updates: Input should be a valid boolean"),
    ],
)
async def test_bad_subscriptions_are_refused_with_a_readable_422(body: bytes, expected: str) -> None:
    response = await api().create(body)
    assert response.status == 422
    assert expected in error_of(response)
    assert "token=abc" not in error_of(response)


def test_generated_secrets_follow_the_standard_webhooks_format() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_listings_mask_the_secret_and_the_url_tokens() -> None:
    secret = "whsec_" + base64.b64encode(b"a fixed key of 32 bytes, for me!").decode()
    view = public_view(Subscription(id="sub_1", url="https://user:pw@hooks.example.org/h?token=abc", secret=secret))
    assert view["secret"] == mask_secret(secret) == "whsec_…" + secret[-4:]
    assert view["url"] == "https://hooks.example.org/h"
    assert secret not in json.dumps(view) and "abc" not in json.dumps(view) and "pw" not in json.dumps(view)
    assert mask_secret("short") == "…"


def test_empty_rule_list_means_every_rule() -> None:
    assert Subscription(id="s", url="u", secret="x").wants("anything")
    assert not Subscription(id="s", url="u", secret="x", rules=["rafah"]).wants("iran-sanctions")


async def test_while_redis_is_away_the_api_answers_503_with_the_reason_before_doing_anything() -> None:
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")

    async def redis_reachable() -> bool:
        return await redis_answers(unreachable)

    async def must_not_run() -> ApiResponse:
        raise AssertionError("nothing is attempted while Redis is known to be away")

    response = await unless_unavailable(redis_reachable, must_not_run)
    assert response.status == 503 and response.headers == {"Retry-After": "5"}
    assert error_of(response).startswith("temporarily unavailable, try again shortly: Redis at 127.0.0.1:")
    assert "is unavailable: ConnectionError" in error_of(response)


async def test_a_request_that_meets_an_outage_midway_is_503_and_a_bug_is_not_hidden() -> None:
    async def seemed_fine() -> bool:
        return True

    response = await unless_unavailable(seemed_fine, api().list)  # its store's Redis port is closed
    assert response.status == 503 and "ConnectionError" in error_of(response)

    async def broken() -> ApiResponse:
        raise KeyError("url")

    with pytest.raises(KeyError):
        await unless_unavailable(seemed_fine, broken)
