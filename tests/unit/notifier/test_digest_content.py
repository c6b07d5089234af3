"""What a digest lists: newest first, nothing when empty, silenced alerts marked, the same once queued."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.digests import (
    digest_message_id,
    digest_notice,
    notice_entry,
    notice_from_entry,
    standard_digest_body,
)
from services.notifier.notice_bodies import notice_body, notice_from_body
from shared.schemas import Alert, MatchedSentence

START = datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc)
END = START + timedelta(hours=1)


def notice(rule_id: str, story_id: str, minute: int, outlets: int = 1, silence_id: str | None = None,
           first_seen: datetime | None = None) -> AlertNotice:
    alert = Alert(alert_id=f"al-{rule_id}-{story_id}", rule_id=rule_id, rule_name=rule_id.title(),
                  article_id=f"art-{story_id}", story_id=story_id, url=f"https://news.example/{story_id}",
                  title=f"Story {story_id}", source="wire", fired_at=START + timedelta(minutes=minute),
                  sentences=[MatchedSentence(text="A sentence that matched.", start=0, end=24, matches=[(2, 10)])])
    return AlertNotice("alert.fired", alert, outlets=outlets, silence_id=silence_id, first_seen=first_seen)


def test_nothing_alerted_means_no_digest() -> None:
    assert digest_notice("sub_a", START, END, []) is None


def test_items_are_newest_first() -> None:
    made = digest_notice("sub_a", START, END, [notice("rafah", "s1", 5), notice("gaza", "s2", 40),
                                                notice("rafah", "s3", 20)])
    assert made is not None
    assert [item.alert.story_id for item in made.items] == ["s2", "s3", "s1"]
    assert (made.subscription_id, made.period_start, made.period_end) == ("sub_a", START, END)


def test_an_entry_gives_back_the_notice_it_was_made_from() -> None:
    original = notice("rafah", "s1", 5, outlets=4, silence_id="sil_1", first_seen=START)
    assert notice_from_entry(json.loads(json.dumps(notice_entry(original)))) == original


def test_a_queued_digest_reads_back_with_its_silenced_alerts_marked() -> None:
    made = digest_notice("sub_a", START, END, [notice("rafah", "s1", 5, outlets=2),
                                                notice("gaza", "s2", 30, silence_id="sil_9", first_seen=START)])
    assert made is not None
    body = json.loads(notice_body(made))
    assert body["type"] == "digest" and [item["story_id"] for item in body["items"]] == ["s2", "s1"]
    assert body["items"][0]["silence_id"] == "sil_9" and "silence_id" not in body["items"][1]
    read_back = notice_from_body(notice_body(made))
    assert isinstance(read_back, DigestNotice) and (read_back.period_start, read_back.period_end) == (START, END)
    assert [(item.alert.alert_id, item.silence_id, item.outlets) for item in read_back.items] == [
        (item.alert.alert_id, item.silence_id, item.outlets) for item in made.items]


def test_the_standard_body_lists_each_story_once_with_its_rules() -> None:
    made = digest_notice("sub_a", START, END, [
        notice("rafah", "s1", 5, outlets=2), notice("gaza", "s1", 30, outlets=5, silence_id="sil_9"),
        notice("kyiv", "s2", 10, silence_id="sil_9"),
    ])
    assert made is not None
    message_id = digest_message_id("sub_a", END)
    body = json.loads(standard_digest_body(made, message_id))
    assert body["type"] == "digest" and body["digest_id"] == message_id == f"digest_sub_a_{int(END.timestamp())}"
    assert (body["period_start"], body["period_end"]) == (START.isoformat(), END.isoformat())
    assert [story["story_id"] for story in body["stories"]] == ["s1", "s2"] and body["story_count"] == 2
    first = body["stories"][0]
    assert (first["title"], first["url"], first["outlets"]) == ("Story s1", "https://news.example/s1", 5)
    assert first["first_seen"] == (START + timedelta(minutes=5)).isoformat()
    assert [(rule["rule_id"], rule["silence_id"]) for rule in first["rules"]] == [("gaza", "sil_9"), ("rafah", None)]
    assert first["silenced"] is False and body["stories"][1]["silenced"] is True
