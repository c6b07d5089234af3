"""One queued body, rendered for each format at send time: the standard body as stored, a chat
format's JSON, an email to the mailto address; and the same notice read back from what was queued."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from services.notifier.api import trial_event_body, trial_message
from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.notice_bodies import message_id, notice_body, notice_from_body
from services.notifier.rendering import HttpPayload, RenderError, mailto_address, render
from services.notifier.webhooks.subscriptions import Format
from shared.schemas import Alert, MatchedSentence

SENTENCE = "Shelling was reported near the Rafah crossing on Monday evening."


def alert(story: str = "story-7") -> Alert:
    return Alert(alert_id=f"al-{story}", rule_id="rafah", rule_name="Rafah", article_id="a1", story_id=story,
                 url="https://news.example.org/a1", title="Shelling near the crossing", source="news.example.org",
                 sentences=[MatchedSentence(text=SENTENCE, start=0, end=len(SENTENCE), matches=[(31, 36)])],
                 fired_at=datetime(2026, 3, 9, 7, 42, tzinfo=timezone.utc))


def rendered(fmt: Format, body: str, msg_id: str = "al-story-7") -> HttpPayload:
    payload = render(fmt, msg_id, body.encode(), url="https://hooks.example.org/x", subscription_id="sub_1",
                     sender=None)
    assert isinstance(payload, HttpPayload)
    return payload


def test_a_standard_alert_is_sent_as_stored_and_signed() -> None:
    body = notice_body(AlertNotice("alert.fired", alert(), outlets=2))
    payload = rendered("standard", body)
    assert payload.signed and payload.content == body.encode()
    sent = json.loads(payload.content)
    assert (sent["type"], sent["alert_id"], sent["story_id"], sent["update_sequence"], sent["outlets"]) == (
        "alert.fired", "al-story-7", "story-7", 0, 2)


def test_an_update_has_its_own_message_id_and_reads_back_whole() -> None:
    update = AlertNotice("alert.updated", alert(), outlets=10, update_sequence=2, update_reason="now 10 outlets",
                         first_seen=datetime(2026, 3, 9, 7, 42, tzinfo=timezone.utc))
    assert message_id(update) == "al-story-7-u2" and message_id(AlertNotice("alert.fired", alert())) == "al-story-7"
    assert notice_from_body(notice_body(update)) == update


@pytest.mark.parametrize("fmt", ["slack", "teams", "discord"])
def test_chat_formats_render_the_stored_body_unsigned(fmt: Format) -> None:
    payload = rendered(fmt, notice_body(AlertNotice("alert.fired", alert())))
    assert not payload.signed and payload.headers == {"content-type": "application/json"}
    assert "Shelling near the crossing" in payload.content.decode()


def test_a_digest_is_stored_as_its_notice_and_sent_standard_as_the_digest_body() -> None:
    end = datetime(2026, 3, 9, 8, 0, tzinfo=timezone.utc)
    digest = DigestNotice("sub_1", end - timedelta(hours=1), end,
                          (AlertNotice("alert.fired", alert("s2")), AlertNotice("alert.fired", alert("s1"))))
    body = notice_body(digest)
    assert notice_from_body(body) == digest
    sent = json.loads(rendered("standard", body, "digest_sub_1_1").content)
    assert (sent["type"], sent["digest_id"], sent["story_count"]) == ("digest", "digest_sub_1_1", 2)
    assert [story["story_id"] for story in sent["stories"]] == ["s2", "s1"]


def test_an_email_goes_to_the_mailto_address_with_an_unsubscribe_header() -> None:
    message = render("email", "al-story-7", notice_body(AlertNotice("alert.fired", alert())).encode(),
                     url="mailto:desk@example.org", subscription_id="sub_9", sender="newsmon@example.org")
    assert isinstance(message, EmailMessage)
    assert message["To"] == "desk@example.org" and message["From"] == "newsmon@example.org"
    assert "unsubscribe%20sub_9" in message["List-Unsubscribe"]


def test_email_without_smtp_settings_or_a_mailto_url_cannot_be_rendered() -> None:
    body = notice_body(AlertNotice("alert.fired", alert())).encode()
    with pytest.raises(RenderError, match="NEWSMON_SMTP_HOST"):
        render("email", "al-story-7", body, url="mailto:desk@example.org", subscription_id="sub_9", sender=None)
    for url in ("https://example.org/x", "mailto:a@example.org,b@example.org", "mailto:nobody"):
        with pytest.raises(RenderError):
            mailto_address(url)


def test_test_messages_are_the_signed_event_for_standard_and_a_test_alert_otherwise() -> None:
    assert json.loads(trial_message("test_1", "sub_1", "standard"))["type"] == "newsmon.test"
    assert json.loads(trial_event_body("test_1", "sub_1"))["event_id"] == "test_1"
    notice = notice_from_body(trial_message("test_1", "sub_1", "slack"))
    assert isinstance(notice, AlertNotice) and notice.type == "test"
    assert "sub_1" in rendered("slack", trial_message("test_1", "sub_1", "slack"), "test_1").content.decode()
