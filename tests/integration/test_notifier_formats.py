"""Subscriptions in each format on the running stack: Slack, Teams and Discord receivers that check what
each service documents get the alert in their format (a 429 with Retry-After is waited out), an email
subscription gets a MIME message through the loopback SMTP server (and its one-click unsubscribe link
works), a test message goes out in the
subscription's format, copies of an alerted story send one alert.updated per outlet threshold, and a
rule's own webhooks (off the public topic) get its urgent alerts, which skip digests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsmon.stack import Stack
from services.alerter.rule_engine.rules import default_rules_text
from shared.article_ids import article_id_for_url
from shared.schemas import RawArticle
from tests.channel_receivers import ChatFormat, ChatReceiver
from tests.integration.conftest import UPDATE_THRESHOLDS, WEBHOOK_SECRET, metric, produce, read_json_topic, reloads
from tests.integration.receiver import Receiver, signature_valid
from tests.integration.test_alerter_rules import story
from tests.integration.test_notifier_api import call, rafah_story
from tests.smtp_server import SmtpServer
from tests.waiting import wait_until

CHAT_FORMATS: tuple[ChatFormat, ...] = ("slack", "teams", "discord")


Create = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def create(stack: Stack) -> Iterator[Create]:
    """Create subscriptions through the API; they are deleted after the test, so later tests reading the
    session receiver see only their own deliveries."""
    created: list[str] = []

    def subscribe(body: dict[str, Any]) -> dict[str, Any]:
        status, answer = call(stack, "POST", "/api/subscriptions", body)
        assert status == 201, answer
        created.append(answer["id"])
        return dict(answer)

    yield subscribe
    for subscription_id in created:
        call(stack, "DELETE", f"/api/subscriptions/{subscription_id}")


def mentioning(chat: ChatReceiver, text: str) -> list[Any]:
    """The payloads the receiver accepted that contain ``text``."""
    return [body for body in list(chat.accepted) if text in json.dumps(body)]


def test_chat_subscriptions_receive_the_alert_in_their_format_once(
    stack: Stack, chat_receivers: dict[ChatFormat, ChatReceiver], create: Create
) -> None:
    tag = uuid.uuid4().hex[:8]
    created = {fmt: create({"url": chat_receivers[fmt].url(f"{fmt}-{tag}"), "format": fmt,
                                   "rules": ["rafah"]}) for fmt in CHAT_FORMATS}
    assert {fmt: created[fmt]["format"] for fmt in CHAT_FORMATS} == {fmt: fmt for fmt in CHAT_FORMATS}
    chat_receivers["slack"].throttle_once(retry_after_s=1)
    throttled = chat_receivers["slack"].throttled
    delivered = {fmt: metric(stack, "notifier", "newsmon_notifications_total", format=fmt, outcome="delivered")
                 for fmt in CHAT_FORMATS}

    produce(stack.settings, "articles.enriched", [rafah_story(tag)])

    for fmt in CHAT_FORMATS:
        wait_until(lambda fmt=fmt: mentioning(chat_receivers[fmt], f"Rafah {tag}"), 60, f"the {fmt} message")
    assert chat_receivers["slack"].throttled == throttled + 1, "Slack answered 429 once, and was tried again"
    for fmt in CHAT_FORMATS:
        assert len(mentioning(chat_receivers[fmt], f"Rafah {tag}")) == 1, f"one {fmt} message"
        assert not [refused for refused in chat_receivers[fmt].refused if tag.encode() in refused.body]
        assert metric(stack, "notifier", "newsmon_notifications_total", format=fmt,
                      outcome="delivered") >= delivered[fmt] + 1
    status, listed = call(stack, "GET", "/api/subscriptions")
    shown = {entry["id"]: entry for entry in listed["subscriptions"]}
    assert shown[created["discord"]["id"]]["format"] == "discord"


def test_a_test_message_goes_out_in_the_subscriptions_format(
    stack: Stack, chat_receivers: dict[ChatFormat, ChatReceiver], create: Create
) -> None:
    created = create({"url": chat_receivers["teams"].url("teams-test"), "format": "teams"})
    status, queued = call(stack, "POST", f"/api/subscriptions/{created['id']}/test")
    assert status == 202
    wait_until(lambda: mentioning(chat_receivers["teams"], created["id"]), 30, "the Teams test card")


def test_an_email_subscription_gets_a_mime_message_through_smtp(
    stack: Stack, smtp_server: SmtpServer, create: Create
) -> None:
    tag = uuid.uuid4().hex[:8]
    address = f"desk-{tag}@example.org"
    created = create({"url": f"mailto:{address}", "format": "email", "rules": ["rafah"]})
    produce(stack.settings, "articles.enriched", [rafah_story(tag)])

    def mail() -> list[Any]:
        return [received for received in smtp_server.received() if address in received.recipients]

    [received] = wait_until(mail, 60, "the email at the SMTP server")
    message = received.message
    assert message["To"] == address and message["From"] == "newsmon@example.org"
    assert f"Rafah {tag}" in str(message["Subject"])
    assert message["Message-ID"] and message["List-Unsubscribe"]
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= parts

    # The reader's "Unsubscribe": the link shows a button (a GET changes nothing), its POST ends the subscription.
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith(stack.url("notifier", f"/unsubscribe/{created['id']}?token="))
    shown = httpx.get(link, timeout=10)
    assert shown.status_code == 200 and "<form method=\"post\">" in shown.text
    assert created["id"] in listed_ids(stack)
    done = httpx.post(link, content=b"List-Unsubscribe=One-Click", timeout=10,
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and address in done.text
    assert created["id"] not in listed_ids(stack)
    assert httpx.post(link, timeout=10).status_code == 404


def listed_ids(stack: Stack) -> list[str]:
    status, answer = call(stack, "GET", "/api/subscriptions")
    assert status == 200, answer
    return [subscription["id"] for subscription in answer["subscriptions"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "mailto:desk@example.org"}, "format:"),
    ({"url": "http://127.0.0.1:9/x", "format": "pager"}, "format:"),
    ({"url": "http://127.0.0.1:9/x", "digest": {"every_s": 0}}, "digest.every_s:"),
])
def test_refusals_name_the_field(stack: Stack, body: dict[str, Any], field: str) -> None:
    status, answer = call(stack, "POST", "/api/subscriptions", body)
    assert status == 422 and answer["error"].startswith(field), answer


def copy(url: str, text: str) -> tuple[bytes, bytes]:
    article = RawArticle(article_id=article_id_for_url(url), url=url, canonical_url=url, title=f"Rafah {url}",
                         text=text, source=url)
    return article.article_id.encode(), article.model_dump_json().encode()


def test_copies_of_an_alerted_story_send_one_update_per_threshold(
    stack: Stack, receiver: Receiver, create: Create
) -> None:
    tag = uuid.uuid4().hex[:8]
    path = f"updates-{tag}"
    create({"url": receiver.url(path), "rules": ["rafah"], "updates": True})
    text = (f"Israeli forces pressed on towards Rafah on Friday, officials said.\n"
            f"Aid groups warned that families shelter in the city. Story {tag}.")
    original_key, original = copy(f"https://wire.example.com/{tag}", text)
    produce(stack.settings, "articles.raw", [(original_key, original)])
    [fired] = wait_until(lambda: receiver.snapshot(path), 120, "the alert at the updates subscriber")
    assert (fired.json["type"], fired.json["update_sequence"], fired.json["outlets"]) == ("alert.fired", 0, 1)

    copies = [copy(f"https://outlet{number}.example.net/{tag}", text) for number in range(4)]
    for outlets, (key, value) in enumerate(copies, start=2):  # one at a time, so each count is seen
        produce(stack.settings, "articles.raw", [(key, value)])
        wait_until(lambda outlets=outlets: any(message.get("story_outlets") == outlets
                                               for message in duplicates_of(stack, tag)),
                   60, f"dedupe to count {outlets} outlets")

    def updates() -> list[dict[str, Any]]:
        return [request.json for request in receiver.snapshot(path) if request.json["type"] == "alert.updated"]

    wait_until(lambda: len(updates()) >= len(UPDATE_THRESHOLDS), 60, "an update per threshold")
    handled = metric(stack, "notifier", "newsmon_processing_seconds_count")  # the notifier's only such series
    produce(stack.settings, "articles.raw", [copies[0]])  # a copy seen again changes nothing
    wait_until(lambda: len(duplicates_of(stack, tag)) == len(copies) + 1, 60, "dedupe to pass the copy on again")
    wait_until(lambda: metric(stack, "notifier", "newsmon_processing_seconds_count") > handled,
               60, "the notifier to handle it")
    ids = [request.headers["webhook-id"] for request in receiver.snapshot(path)]
    found = updates()
    assert [(update["update_sequence"], update["outlets"]) for update in found] == [(1, 2), (2, 3)]
    assert {update["alert_id"] for update in found} == {fired.json["alert_id"]}
    assert found[0]["update_reason"] == "now 2 outlets"
    assert len(ids) == len(set(ids)) == 3, "one fired, one update per threshold, none twice"


def duplicates_of(stack: Stack, tag: str) -> list[dict[str, Any]]:
    """The copies of the story ``tag`` that dedupe published, in order."""
    return [message for message in read_json_topic(stack.settings, "articles.duplicates") if tag in message["text"]]


def test_a_rules_own_webhook_gets_its_urgent_alerts_and_never_rides_on_the_topic(
    stack: Stack, receiver: Receiver, rules_file: Path, create: Create
) -> None:
    rule_id, word, tag = f"hooked-{uuid.uuid4().hex[:8]}", f"quarvel{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:8]
    hook = receiver.url(f"rule-hook-{tag}") + f"?token=secret-{tag}"
    create({"url": receiver.url(f"daily-{tag}"), "digest": {"every_s": 3600}})
    done = reloads(stack, "ok")
    rules_file.write_text(default_rules_text() + (
        f"\n  - id: {rule_id}\n    name: Hooked word\n    priority: urgent\n    webhooks: ['{hook}']\n"
        f"    sentence: {{any: [{{term: {word}, case: insensitive}}]}}\n"))
    wait_until(lambda: reloads(stack, "ok") > done, 60, "the edited rule file to be active")

    article = story(f"Inspectors found {word} at the port.")
    produce(stack.settings, "articles.enriched", [article])
    [hit] = wait_until(lambda: [hit for hit in receiver.snapshot() if hit.path.startswith(f"/rule-hook-{tag}?")],
                       60, "the alert at the rule's webhook")
    assert hit.json["rule_id"] == rule_id and hit.json["priority"] == "urgent"
    assert signature_valid(WEBHOOK_SECRET, hit.headers, hit.body)
    [urgent] = wait_until(lambda: receiver.snapshot(f"daily-{tag}"), 60, "the urgent alert at the digest subscriber")
    assert urgent.json["alert_id"] == hit.json["alert_id"], "urgent: at once, not in the next digest"
    published = [message for message in read_json_topic(stack.settings, "alerts") if message["rule_id"] == rule_id]
    assert published and all(f"secret-{tag}" not in json.dumps(message) for message in published)
