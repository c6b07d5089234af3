"""The restart backoff of `newsmon up`: 1 s doubling to 30 s, back to 1 s once a process stayed up."""

from __future__ import annotations

import signal

from newsmon.embedded import describe_exit
from newsmon.restart_policy import Backoff


def test_delays_double_up_to_the_cap_while_a_process_keeps_dying_young() -> None:
    backoff = Backoff(initial_s=1, cap_s=30, stable_s=30)
    assert [backoff.next_delay(uptime_s=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_process_that_stayed_up_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(initial_s=1, cap_s=30, stable_s=30)
    assert [backoff.next_delay(uptime_s=1) for _ in range(3)] == [1, 2, 4]
    assert backoff.next_delay(uptime_s=31) == 1
    assert backoff.next_delay(uptime_s=1) == 2


def test_a_failed_restart_attempt_counts_as_a_death_at_once() -> None:
    backoff = Backoff(initial_s=1, cap_s=30, stable_s=30)
    assert backoff.next_delay(uptime_s=600) == 1
    assert [backoff.retry_delay(), backoff.retry_delay()] == [2, 4]


def test_an_exit_reads_as_a_status_or_a_signal() -> None:
    assert describe_exit(0) == "exit status 0"
    assert describe_exit(2) == "exit status 2"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert describe_exit(None) == "still running"
