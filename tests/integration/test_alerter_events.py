"""The event rule in the running alerter: it parses the candidate sentence, fires on news of new
sanctions with the event in the alert, and stays silent when the sanctions are evaded."""

from __future__ import annotations

from newsmon.stack import Stack
from tests.integration.conftest import metric, produce
from tests.integration.receiver import Receiver
from tests.integration.test_alerter_rules import alerts_for, story
from tests.waiting import wait_until


def test_new_sanctions_alert_says_who_did_what_to_whom_and_evasion_does_not_alert(
    stack: Stack, receiver: Receiver
) -> None:
    evaded = story("Tankers kept carrying Iranian crude despite the new sanctions announced by the European Union.")
    news = story("The European Union imposed new sanctions on Iran's drone makers on Monday.")
    fired_before = metric(stack, "alerter", "newsmon_alerts_total", rule="iran-sanctions")
    # One key for both: one partition, read in order, so the evasion story is evaluated before the news.
    produce(stack.settings, "articles.enriched", [evaded, (evaded[0], news[1])])
    wait_until(lambda: alerts_for(receiver, news) == ["iran-sanctions"], 60, "the iran-sanctions alert")
    [alert] = [hit.json for hit in receiver.snapshot() if hit.json["article_id"] == news[0].decode()]
    [event] = alert["events"]
    assert (event["action"]["text"], event["object"]["text"], event["target"]["text"]) == (
        "imposed", "sanctions", "Iran's drone makers")
    assert metric(stack, "alerter", "newsmon_alerts_total", rule="iran-sanctions") == fired_before + 1
    assert alerts_for(receiver, evaded) == []
