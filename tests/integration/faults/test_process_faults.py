"""Process faults on a running `newsmon up`: a service, Redis or the broker killed (SIGKILL) mid-stream,
and the whole stack stopped and started again.

Each time, the supervisor brings the process back by itself, the stack is ready again, `newsmon
status` shows the restart and why, and the subscriber gets every alert under one webhook-id (a
resend after a crash only with the same id). Each test prints how long recovery took; the README's
"Faults it survives" table quotes those lines.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.notifier.webhooks.subscriptions import new_secret
from shared.article_ids import article_id_for_content
from shared.settings import SERVICE_NAMES
from shared.topics import dead_letter_topic
from tests.integration.faults.articles import batch_titles, write_batch
from tests.integration.faults.up_stack import (
    RECOVERY_TIMEOUT_S,
    Subscriber,
    UpStack,
    assert_alerted_once,
    seconds_since,
)
from tests.integration.receiver import Receiver
from tests.waiting import wait_until

BATCH = 8
DELIVERY_TIMEOUT_S = 180.0


def recover(up: UpStack, subscriber: Subscriber, victim: str, killed_at: float, titles: set[str]) -> None:
    """Wait until the stack is ready again and every title was delivered, and print how long each took."""
    wait_until(up.all_ready, RECOVERY_TIMEOUT_S, lambda: f"every service ready after {victim} died:\n{up.tail()}")
    ready_s = seconds_since(killed_at)
    wait_until(lambda: subscriber.received(titles), DELIVERY_TIMEOUT_S,
               lambda: f"alerts {sorted(titles - set(subscriber.deliveries()))} after {victim} died:\n{up.tail()}")
    delivered_s = seconds_since(killed_at)
    print(f"\nFAULT {victim} SIGKILL: ready again after {ready_s:.1f}s, every alert delivered after {delivered_s:.1f}s")


def assert_status_shows(up: UpStack, name: str, restarts: int, last_exit: str) -> None:
    """`newsmon status` answers ready and lists the process with its restarts and how it last ended."""
    status = up.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    [line] = [line for line in status.stdout.splitlines() if line.startswith(f"  {name} ")]
    assert f"restarts {restarts}" in line and f"last: {last_exit}" in line, status.stdout


def kill_mid_stream(up: UpStack, subscriber: Subscriber, victim: str, feed: Path,
                    kill: Callable[[], int] | None = None) -> tuple[int, float]:
    """Feed a batch, kill ``victim`` (or the process whose pid ``kill`` gives) once its first alert arrived
    (the stream flows), feed another while it is down; returns (the killed pid, when)."""
    before, during = f"{victim}-before", f"{victim}-during"
    if victim == "fetcher":
        write_batch(feed, before, BATCH)
    else:
        up.replay(write_batch(feed, before, BATCH))
    wait_until(lambda: subscriber.deliveries().keys() & batch_titles(before, BATCH), DELIVERY_TIMEOUT_S,
               lambda: f"the first alert of {before}:\n{up.tail()}")
    if kill is None:
        pid = up.kill(victim)
    else:
        pid = kill()
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    if victim == "fetcher":
        write_batch(feed, during, BATCH)
    else:
        up.replay(write_batch(feed, during, BATCH))
    return pid, killed_at


@pytest.mark.parametrize("victim", ["fetcher", "dedupe", "ner", "alerter", "notifier"])
def test_a_service_killed_mid_stream_is_restarted_and_no_alert_is_lost_or_doubled(
    up: UpStack, subscriber: Subscriber, inbox: Path, victim: str
) -> None:
    restarts = up.restarts()[victim]
    pid, killed_at = kill_mid_stream(up, subscriber, victim, inbox if victim == "fetcher" else up.root)

    up.wait_restarted(victim, pid, restarts)
    titles = batch_titles(f"{victim}-before", BATCH) | batch_titles(f"{victim}-during", BATCH)
    recover(up, subscriber, victim, killed_at, titles)

    # Only the alerter (an alert) and the notifier (a webhook) can die between sending and recording it sent.
    assert_alerted_once(up, subscriber, titles, resend_allowed=victim in ("alerter", "notifier"))
    assert_status_shows(up, victim, restarts + 1, "killed by SIGKILL")
    assert any(line.startswith(f"{victim} (pid {pid}) died: killed by SIGKILL; restarting in ")
               for line in up.console_lines()), up.tail()


def ner_workers(ner_pid: int) -> set[int]:
    """The ner service's worker processes: its children started by multiprocessing's spawn (not its
    resource tracker)."""
    children = {int(child) for task in Path(f"/proc/{ner_pid}/task").iterdir()
                for child in (task / "children").read_text().split()}
    return {child for child in children
            if "spawn_main" in (command := Path(f"/proc/{child}/cmdline").read_text())
            and "resource_tracker" not in command}


def test_a_ner_worker_killed_mid_stream_is_replaced_and_no_article_is_lost_or_dead_lettered(
    up: UpStack, subscriber: Subscriber
) -> None:
    """The kernel's out-of-memory killer picks the largest process, spaCy's worker: the service stays up,
    starts new workers, and annotates the articles again."""
    ner_pid, restarts = up.state().pid("ner"), up.restarts()["ner"]
    workers, dead_letters = ner_workers(ner_pid), len(up.topic(dead_letter_topic("ner")))
    assert workers, "ner runs its pipeline in worker processes"
    pid, killed_at = kill_mid_stream(up, subscriber, "ner-worker", up.root, kill=lambda: min(workers))
    titles = batch_titles("ner-worker-before", BATCH) | batch_titles("ner-worker-during", BATCH)
    recover(up, subscriber, "ner's worker", killed_at, titles)

    assert_alerted_once(up, subscriber, titles, resend_allowed=False)
    assert (up.state().pid("ner"), up.restarts()["ner"]) == (ner_pid, restarts), "the service was not restarted"
    replaced = ner_workers(ner_pid)
    assert pid not in replaced and len(replaced) == len(workers)
    assert len(up.topic(dead_letter_topic("ner"))) == dead_letters, "nothing dead-lettered"


def test_redis_killed_mid_stream_comes_back_with_its_data(up: UpStack, subscriber: Subscriber) -> None:
    restarts = up.restarts()["redis"]
    pid, killed_at = kill_mid_stream(up, subscriber, "redis", up.root)

    up.wait_restarted("redis", pid, restarts)
    titles = batch_titles("redis-before", BATCH) | batch_titles("redis-during", BATCH)
    recover(up, subscriber, "redis", killed_at, titles)

    # The subscription lives in Redis: deliveries after the restart went through it, and it is still listed.
    status, listed = up.api("GET", "/api/subscriptions")
    assert status == 200 and subscriber.subscription_id in {entry["id"] for entry in listed["subscriptions"]}
    # A write lost with Redis can make a service redo a step: only ever under the same ids.
    assert_alerted_once(up, subscriber, titles, resend_allowed=True)
    assert_status_shows(up, "redis", restarts + 1, "killed by SIGKILL")


def test_the_broker_killed_mid_stream_comes_back_and_the_services_restart_with_it(
    up: UpStack, subscriber: Subscriber
) -> None:
    restarts = up.restarts()
    before = write_batch(up.root, "broker-before", BATCH)
    up.replay(before)
    wait_until(lambda: subscriber.deliveries().keys() & batch_titles("broker-before", BATCH), DELIVERY_TIMEOUT_S,
               lambda: f"the first alert of broker-before:\n{up.tail()}")
    pid = up.kill("broker")
    killed_at = time.monotonic()

    up.wait_restarted("broker", pid, restarts["broker"])
    wait_until(lambda: all(up.restarts()[name] == restarts[name] + 1 for name in SERVICE_NAMES), RECOVERY_TIMEOUT_S,
               lambda: f"every service restarted with the broker:\n{up.tail()}")
    wait_until(up.all_ready, RECOVERY_TIMEOUT_S, lambda: f"every service ready after the broker died:\n{up.tail()}")
    ready_s = seconds_since(killed_at)
    # The new broker is empty: new articles, and the batch it may have lost in flight replayed, as
    # the README says to; the alerts already sent are not sent again (Redis remembers them).
    # The new batch lands at offsets the old services had already read on the old broker.
    up.replay(write_batch(up.root, "broker-after", BATCH))
    up.replay(before)
    titles = batch_titles("broker-before", BATCH) | batch_titles("broker-after", BATCH)
    wait_until(lambda: subscriber.received(titles), DELIVERY_TIMEOUT_S,
               lambda: f"alerts {sorted(titles - set(subscriber.deliveries()))} after the broker died:\n{up.tail()}")
    delivered_s = seconds_since(killed_at)
    print(f"\nFAULT broker SIGKILL: ready again after {ready_s:.1f}s, every alert delivered after {delivered_s:.1f}s"
          " (the in-flight batch replayed)")

    assert_alerted_once(up, subscriber, batch_titles("broker-after", BATCH), resend_allowed=False)
    assert_alerted_once(up, subscriber, batch_titles("broker-before", BATCH), resend_allowed=True,
                        on_this_broker=False)
    assert_status_shows(up, "broker", restarts["broker"] + 1, "killed by SIGKILL")
    for name in SERVICE_NAMES:
        assert_status_shows(up, name, restarts[name] + 1, "restarted with the broker")
    assert any("the services restart with it" in line for line in up.console_lines()), up.tail()


def test_stopping_and_starting_newsmon_up_keeps_what_redis_holds(
    up: UpStack, subscriber: Subscriber, inbox: Path
) -> None:
    """Subscriptions, API rules, queued webhooks, and the dedupe and fetcher memory outlive a restart
    of the whole embedded stack (Redis's append-only file); the broker's topics do not."""
    status, rule = up.api("PUT", "/api/rules/faults-kept", {"name": "Kept", "sentence": {"all": [{"any": ["Xq"]}]}})
    assert status == 201, rule
    waiting = Receiver(status=503).start()  # its delivery stays queued across the restart
    try:
        status, created = up.api("POST", "/api/subscriptions", {"url": waiting.url(), "secret": new_secret(),
                                                                "rules": ["rafah"]})
        assert status == 201, created
        up.replay(write_batch(up.root, "queued", 1))
        write_batch(inbox, "inbox-kept", 1)
        wait_until(lambda: waiting.snapshot() and subscriber.received({"Rafah inbox-kept 0"}), DELIVERY_TIMEOUT_S,
                   "a first, refused delivery attempt and the inbox file's alert")

        up.stop()
        stopped_at = time.monotonic()
        up.start()
        wait_until(up.all_ready, RECOVERY_TIMEOUT_S, lambda: f"every service ready after a restart:\n{up.tail()}")
        print(f"\nRESTART newsmon up: ready again after {seconds_since(stopped_at):.1f}s")

        status, listed = up.api("GET", "/api/subscriptions")
        assert {subscriber.subscription_id, created["id"]} <= {entry["id"] for entry in listed["subscriptions"]}
        status, rules = up.api("GET", "/api/rules")
        assert status == 200 and "faults-kept" in rules["active"]

        refused = len(waiting.snapshot())
        waiting.status = 200
        queued = {"Rafah queued 0", "Rafah inbox-kept 0"}  # both fire `rafah`, refused before the restart
        wait_until(lambda: {request.json["title"] for request in waiting.snapshot()[refused:]} == queued,
                   DELIVERY_TIMEOUT_S, "the queued deliveries, resumed after the restart")
    finally:
        waiting.stop()

    # Dedupe remembers a text it saw before the restart: a copy under another URL is a duplicate of it.
    original = json.loads((up.root / "queued.jsonl").read_text().splitlines()[0])
    copy = up.root / "copy.jsonl"
    copy.write_text(json.dumps({"url": "https://copies.example/queued-0", "title": "Copied Rafah report",
                                "text": original["text"]}) + "\n")
    up.replay(copy)
    wait_until(lambda: [item for item in up.topic("articles.duplicates") if item["title"] == "Copied Rafah report"],
               DELIVERY_TIMEOUT_S, "the copy on articles.duplicates")
    [duplicate] = [item for item in up.topic("articles.duplicates") if item["title"] == "Copied Rafah report"]
    assert duplicate["duplicate_of"] == article_id_for_content(original["text"])

    # The fetcher remembers what it published: the inbox's old file is not sent to the new broker again.
    write_batch(inbox, "after-restart", 1)
    wait_until(lambda: subscriber.received({"Rafah after-restart 0"}), DELIVERY_TIMEOUT_S, "a new inbox file's alert")
    assert "Rafah inbox-kept 0" not in {item["title"] for item in up.topic("articles.raw")}
    assert "Copied Rafah report" not in subscriber.deliveries(), "a copy of a story alerts once, with the story"


def test_no_secret_reaches_the_console_or_the_logs(up: UpStack, subscriber: Subscriber) -> None:
    secrets = {
        "redis password": (up.data_dir / "redis-password").read_text().strip(),
        "api token": (up.data_dir / "api-token").read_text().strip(),
        "subscriber secret": subscriber.secret,
    }
    texts = {f"console {number}": "\n".join(console.lines) for number, console in enumerate(up.consoles)}
    texts |= {str(path): path.read_text(errors="replace") for path in (up.data_dir / "logs").iterdir()}
    assert len(texts) >= len(up.consoles) + 7, "every console and every process's log"
    leaks = [(what, where) for what, secret in secrets.items() for where, text in texts.items() if secret in text]
    assert leaks == []
