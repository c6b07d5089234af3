"""Fetch-to-webhook latency is read from the delivered alert itself; test events have none."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.api import trial_event_body
from services.notifier.webhooks.delivery import fetch_to_delivery_s
from shared.schemas import Alert, MatchedSentence


def alert_fetched_at(fetched_at: datetime | None) -> bytes:
    return Alert(alert_id="a1", rule_id="rafah", rule_name="Rafah", article_id="x", story_id="x", title="Rafah",
                 source="tests", sentences=[MatchedSentence(text="Rafah.", start=0, end=6)],
                 fetched_at=fetched_at).model_dump_json().encode()


def test_the_latency_runs_from_the_articles_fetch_to_the_delivery() -> None:
    fetched = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    delivered_at = (fetched + timedelta(seconds=42.5)).timestamp()
    assert fetch_to_delivery_s(alert_fetched_at(fetched), delivered_at) == pytest.approx(42.5)


def test_messages_without_a_fetch_time_record_no_latency() -> None:
    assert fetch_to_delivery_s(alert_fetched_at(None), 1e9) is None
    assert fetch_to_delivery_s(trial_event_body("evt_1", "sub_1").encode(), 1e9) is None
