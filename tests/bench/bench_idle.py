"""What the embedded stack costs while the news is quiet, and how fast the first article after the quiet goes.

As a user runs it: ``newsmon up``'s processes on embedded defaults, the fetcher polling a folder
every second, a local receiver subscribed to every rule. After a warm-up article, nothing is
written for ``--idle-s`` seconds (60 by default), and each process's CPU time over that minute is
printed (``/proc/<pid>/stat``, as ``bench_throughput`` measures it, ner's worker processes
included) as a share of one core, against the target of < 2% for the whole stack.

Then, ``--tries`` times, one alerting article is written after ``--gap-s`` seconds of quiet
(fetch -> webhook, against the target of < 1 s at p99). ``make bench`` runs the short form (a
10 s gap); the ten-idle-minutes figure is the long form, run on its own (about 35 minutes):

    .venv/bin/python tests/bench/bench_idle.py --gap-s 600 --tries 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.bench.bench_latency import percentile, write_paced
from tests.bench.corpus import BenchArticle, generate
from tests.bench.local_stack import (
    TimedReceiver,
    cpu_seconds,
    files_source,
    running,
    stack_settings,
    subscribe,
)
from tests.waiting import wait_until

IDLE_TARGET = 0.02  # of one core, for the whole stack
FIRST_ARTICLE_TARGET_S = 1.0


def alerting_articles(count: int, seed: int) -> list[BenchArticle]:
    """``count`` originals that each fire a rule."""
    found = [article for article in generate(count * 3, seed=seed, hit_fraction=1.0) if article.copy_of is None]
    return found[:count]


def deliver_one(receiver: TimedReceiver, inbox: Path, article: BenchArticle) -> float:
    """Write one alerting article; seconds from the fetcher reading it to the webhook receiving its alert."""
    known = set(receiver.first_arrivals())
    write_paced([article], inbox, 1)
    wait_until(lambda: len(set(receiver.first_arrivals()) - known) >= 1, 60, "the article's alert")
    arrival = next(arrival for alert_id, arrival in receiver.first_arrivals().items() if alert_id not in known)
    return arrival.at - datetime.fromisoformat(arrival.body["fetched_at"]).timestamp()


def measure_idle(stack_cpu: dict[str, float], after: dict[str, float], seconds: float) -> None:
    shares = {name: (after[name] - stack_cpu[name]) / seconds for name in after}
    total = sum(shares.values())
    print(f"  idle CPU over {seconds:.0f}s, share of one core: "
          + ", ".join(f"{name} {share:.2%}" for name, share in shares.items()))
    print(f"  whole stack {total:.2%} of one core (target < {IDLE_TARGET:.0%}: "
          f"{'met' if total < IDLE_TARGET else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-s", type=float, default=60.0, help="quiet time whose CPU is measured")
    parser.add_argument("--gap-s", type=float, default=10.0, help="quiet time before each first article")
    parser.add_argument("--tries", type=int, default=5, help="first articles, each after a gap")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, TimedReceiver() as receiver:
        data_dir = Path(folder)
        inbox = data_dir / "inbox"
        inbox.mkdir()
        settings = stack_settings(data_dir, sources_path=files_source(data_dir, inbox), log_level="WARNING")
        articles = alerting_articles(options.tries + 1, seed=400)
        with running(settings) as stack:
            subscribe(stack, receiver.url)
            deliver_one(receiver, inbox, articles[0])  # warm-up: models loaded, groups settled
            print(f"the embedded stack idle (folder polled every 1s, fetch wait {settings.fetch_max_wait_s}s):")
            time.sleep(5)  # the warm-up's commits and log lines are not idle time
            before, started = cpu_seconds(stack), time.monotonic()
            time.sleep(options.idle_s)
            measure_idle(before, cpu_seconds(stack), time.monotonic() - started)
            latencies = []
            for article in articles[1:]:
                time.sleep(options.gap_s)
                latencies.append(deliver_one(receiver, inbox, article))
            worst = percentile(latencies, 0.99)
            print(f"  first article after {options.gap_s:.0f}s quiet, fetch -> webhook: "
                  f"{', '.join(f'{value:.3f}s' for value in latencies)}; p99 {worst:.3f}s "
                  f"(target < {FIRST_ARTICLE_TARGET_S}s: {'met' if worst < FIRST_ARTICLE_TARGET_S else 'NOT met'})")


if __name__ == "__main__":
    main()
