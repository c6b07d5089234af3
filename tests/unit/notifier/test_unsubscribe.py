"""One-click unsubscribe: a link opens its own subscription only, a GET never unsubscribes, a POST does
once, and an email names the link (with the one-click header on https) only when NEWSMON_PUBLIC_URL is set."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from services.notifier.api import trial_alert
from services.notifier.channels.notice import AlertNotice
from services.notifier.notice_bodies import notice_body
from services.notifier.rendering import render
from services.notifier.unsubscribe import UnsubscribeAPI, one_click_url, unsubscribe_page, unsubscribe_token
from services.notifier.webhooks.subscriptions import Subscription, new_secret
from shared.http_api import ApiResponse
from shared.settings import Settings, describe_settings_error


class Subscriptions:
    """The two calls of the subscription store the API uses, on a dict."""

    def __init__(self, *subscriptions: Subscription) -> None:
        self.stored = {subscription.id: subscription for subscription in subscriptions}

    async def get(self, subscription_id: str) -> Subscription | None:
        return self.stored.get(subscription_id)

    async def delete(self, subscription_id: str) -> bool:
        return self.stored.pop(subscription_id, None) is not None


def email_subscription(subscription_id: str) -> Subscription:
    return Subscription(id=subscription_id, url=f"mailto:{subscription_id}@example.org", secret=new_secret(),
                        format="email")


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_a_link_unsubscribes_its_own_subscription_once_and_only_by_post() -> None:
    desk, night = email_subscription("sub_desk"), email_subscription("sub_night")
    store = Subscriptions(desk, night)
    api = UnsubscribeAPI(store.get, store.delete)
    link = one_click_url("https://news.example.org/", desk.id, desk.secret)
    assert link.startswith("https://news.example.org/unsubscribe/sub_desk?token=")

    checked = await api.check(desk.id, token_of(link))
    assert checked.status == 200 and set(store.stored) == {"sub_desk", "sub_night"}, "a GET changes nothing"
    assert "<form method=\"post\">" in unsubscribe_page(checked) and "sub_desk@example.org" in unsubscribe_page(checked)

    assert (await api.unsubscribe(night.id, token_of(link))).status == 403, "desk's token does not open night"
    assert (await api.unsubscribe(desk.id, "")).status == 403
    assert set(store.stored) == {"sub_desk", "sub_night"}

    done = await api.unsubscribe(desk.id, token_of(link))
    assert done.status == 200 and set(store.stored) == {"sub_night"}
    assert "<form" not in unsubscribe_page(done)
    again = await api.unsubscribe(desk.id, token_of(link))
    assert again.status == 404 and "unsubscribed already" in unsubscribe_page(again)


def test_a_token_depends_on_the_id_and_the_secret() -> None:
    secret = new_secret()
    token = unsubscribe_token("sub_1", secret)
    assert token == unsubscribe_token("sub_1", secret) and len(token) == 43
    assert token not in (unsubscribe_token("sub_2", secret), unsubscribe_token("sub_1", new_secret()))


def test_the_page_shows_text_as_text() -> None:
    page = unsubscribe_page(ApiResponse(200, {"message": "Stop alerts to <b>x</b>@example.org?", "confirm": True}))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def email(one_click: str | None) -> EmailMessage:
    alert = trial_alert("al-1", "sub_desk")
    message = render("email", "al-1", notice_body(AlertNotice("alert.fired", alert)).encode(),
                     url="mailto:desk@example.org", subscription_id="sub_desk", sender="newsmon@example.org",
                     one_click=one_click)
    assert isinstance(message, EmailMessage)
    return message


def test_an_email_names_the_one_click_link_when_there_is_a_public_url() -> None:
    link = one_click_url("https://news.example.org", "sub_desk", new_secret())
    message = email(link)
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = message.get_body(("plain",))
    assert plain is not None and f"Unsubscribe: {link}" in plain.get_content()

    without = email(None)
    assert without["List-Unsubscribe"].startswith("<mailto:newsmon@example.org?subject=unsubscribe%20sub_desk")
    assert without["List-Unsubscribe-Post"] is None


@pytest.mark.parametrize("value", ["news.example.org", "ftp://news.example.org", "https://news.example.org/?a=1"])
def test_a_public_url_that_is_not_an_http_base_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, public_url=value)
    assert describe_settings_error(raised.value).startswith("NEWSMON_PUBLIC_URL: ")
    assert Settings(_env_file=None, public_url="https://news.example.org/newsmon/").public_url == \
        "https://news.example.org/newsmon"
