"""Telling a process of a stack from whatever now holds its pid, and stopping such processes in order.

A pid alone names a process only while it runs: once it ends, the kernel may give the number to
another program. The state file therefore keeps each process's start time (the kernel's, from
``/proc/<pid>/stat``, through psutil) beside its pid; a process counts as the same one only when
both match. A zombie (ended, not yet reaped by its new parent) counts as ended.

``stop_in_order`` is how every stop of processes that are not this process's children goes (what
an earlier ``newsmon up`` left, or ``newsmon stop``): the services first, all at once, then the
broker and Redis, so that the services can still commit and write while they stop.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

# Start times are read from the same kernel counter each time; the tolerance only absorbs float rounding.
_SAME_START_S = 0.05
KILL_WAIT_S = 5.0


def start_time(pid: int) -> float | None:
    """When the process ``pid`` started (seconds since the epoch), or None when there is none."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def running(pid: int, started: float | None) -> bool:
    """True while the process that started at ``started`` still runs as ``pid`` (any process when None)."""
    try:
        process = psutil.Process(pid)
        if started is not None and abs(process.create_time() - started) > _SAME_START_S:
            return False
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # another user's process exists; it cannot be ours, but its pid is taken


@dataclass(frozen=True)
class Known:
    """A process recorded by name, pid and start time."""

    name: str
    pid: int
    started: float | None

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid})"


def still_running(processes: Iterable[Known]) -> list[Known]:
    return [process for process in processes if running(process.pid, process.started)]


def stop_in_order(processes: list[Known], last: frozenset[str], grace_s: float,
                  last_grace_s: float | None = None) -> list[Known]:
    """Stop those of ``processes`` that still run: all but the ``last`` names together, then the ``last`` ones
    in reverse order of the list (the order they were started in). Each group gets SIGTERM (and SIGCONT,
    so a paused process can act on it), ``grace_s`` to exit (each of the ``last`` ones ``last_grace_s``,
    when given), then SIGKILL. Returns the processes that ran."""
    alive = still_running(processes)
    first = [process for process in alive if process.name not in last]
    after = [process for process in reversed(alive) if process.name in last]
    _terminate(first, grace_s)
    for process in after:
        _terminate([process], grace_s if last_grace_s is None else last_grace_s)
    return alive


def _terminate(processes: list[Known], grace_s: float) -> None:
    signalled = [known for known in processes if _signal(known, signal.SIGTERM)]
    for known in signalled:
        _signal(known, signal.SIGCONT)
    left = _wait_ended(signalled, grace_s)
    for known in left:
        _signal(known, signal.SIGKILL)
    _wait_ended(left, KILL_WAIT_S)


def _signal(known: Known, signum: signal.Signals) -> bool:
    """Send ``signum`` if ``known`` still runs; True when it was sent."""
    try:
        handle = psutil.Process(known.pid)
        if known.started is not None and abs(handle.create_time() - known.started) > _SAME_START_S:
            return False
        handle.send_signal(signum)
        return True
    except psutil.NoSuchProcess:
        return False


def _wait_ended(processes: list[Known], timeout_s: float) -> list[Known]:
    """Poll until every process has ended (a zombie has: its new parent may never reap it); the ones left."""
    deadline = time.monotonic() + timeout_s
    left = still_running(processes)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = still_running(left)
    return left
