"""When the alerter publishes its recent alerts again: only on an embedded broker that is a new one."""

from __future__ import annotations

from services.alerter.republishing import must_republish


def test_a_new_embedded_broker_gets_the_recent_alerts_again() -> None:
    assert must_republish("epoch-of-the-killed-broker", "epoch-of-the-new-broker")


def test_a_restart_of_the_alerter_alone_on_the_same_broker_republishes_nothing() -> None:
    assert not must_republish("same-epoch", "same-epoch")


def test_kafka_which_keeps_its_topics_never_gets_alerts_again() -> None:
    assert not must_republish("epoch-of-an-earlier-embedded-broker", None)
    assert not must_republish(None, None)


def test_the_first_start_on_an_empty_redis_has_nothing_to_republish() -> None:
    assert not must_republish(None, "first-epoch")
