"""The supervision loop of a local stack: notice a process that died, say why, start it again.

A thread polls every supervised process twice a second. A process that ended without being asked
to (``ManagedProcess.stop`` was not called) is reported with its exit status or signal and the
last line of its log, and started again after the delay of its ``Backoff``; a restart that fails
is retried with the next delay. How a process is started again (and what else must restart with
it) is the stack's business: the loop calls ``revive(name)``, which raises ``EmbeddedError`` when
the process cannot start.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from newsmon.embedded import EmbeddedError, ManagedProcess
from newsmon.restart_policy import Backoff
from newsmon.stack_state import ProcessState

CHECK_INTERVAL_S = 0.5
# user:password@ after a URL scheme: a log line of a process may hold a connection URL.
_CREDENTIALS = re.compile(r"(?<=://)[^/\s@]+@")

logger = logging.getLogger(__name__)

Report = Callable[[str], None]


def without_credentials(text: str) -> str:
    """``text`` with the user-info of every URL in it removed, so a console line never shows a password."""
    return _CREDENTIALS.sub("", text)


@dataclass
class Supervised:
    """One process of the stack with its supervision record."""

    process: ManagedProcess
    backoff: Backoff = field(default_factory=Backoff)
    restarts: int = 0
    last_exit: str | None = None
    last_exit_at: float | None = None
    last_log_line: str | None = None
    due: float | None = None  # monotonic time of the next restart attempt, while the process is down

    def replaced_by(self, process: ManagedProcess, reason: str | None = None) -> None:
        """Record that ``process`` now runs in place of the previous one; ``reason`` counts it as a restart."""
        self.process = process
        self.due = None
        if reason is not None:
            self.restarts += 1
            self.last_exit = reason
            self.last_exit_at = time.time()

    def state(self) -> ProcessState:
        process = self.process
        return ProcessState(
            name=process.name, pid=process.pid, started_at=time.time() - (time.monotonic() - process.started_at),
            restarts=self.restarts, last_exit=self.last_exit, last_exit_at=self.last_exit_at,
            last_log_line=self.last_log_line, restarting=not process.alive(), create_time=process.create_time,
        )


class SupervisedStack(Protocol):
    """What the loop needs from a stack: its processes, a lock over them, and how to revive one."""

    lock: threading.RLock

    def supervised(self) -> dict[str, Supervised]: ...

    def revive(self, name: str) -> None: ...

    def revival_note(self, name: str) -> str: ...

    def save_state(self) -> None: ...


class Supervisor:
    """A daemon thread restarting the processes of ``stack`` that die, until ``stop``."""

    def __init__(self, stack: SupervisedStack, report: Report) -> None:
        self.stack = stack
        self.report = report
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsmon-supervisor", daemon=True)

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching; returns after a restart in progress has finished, so none starts after this."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_INTERVAL_S):
            try:
                self.check()
            except Exception:  # the loop must outlive any one failure, or the stack goes unsupervised
                logger.exception("supervisor check failed")

    def check(self) -> None:
        """One pass: note each newly dead process, and revive those whose delay has passed."""
        with self.stack.lock:
            changed = False
            for name, record in self.stack.supervised().items():
                if self._stopping.is_set():
                    return
                if record.process.alive() or record.process.stopped:
                    continue
                if record.due is None:
                    self._note_death(name, record)
                elif time.monotonic() >= record.due:
                    self._revive(name, record)
                else:
                    continue
                changed = True
            if changed:
                self.stack.save_state()

    def _note_death(self, name: str, record: Supervised) -> None:
        process = record.process
        delay = record.backoff.next_delay(uptime_s=time.monotonic() - process.started_at)
        record.due = time.monotonic() + delay
        record.last_exit = process.exit_description()
        record.last_exit_at = time.time()
        record.last_log_line = without_credentials(process.last_log_line())
        note = self.stack.revival_note(name)
        self.report(f"{name} (pid {process.pid}) died: {record.last_exit}; restarting in {delay:.0f}s"
                    f"{'; ' + note if note else ''}. Its last log line: {record.last_log_line}")

    def _revive(self, name: str, record: Supervised) -> None:
        try:
            self.stack.revive(name)
        except EmbeddedError as error:
            delay = record.backoff.retry_delay()
            record.due = time.monotonic() + delay
            first_line = without_credentials(str(error)).splitlines()[0]
            self.report(f"{name} could not be restarted ({first_line}); trying again in {delay:.0f}s")
            return
        record.restarts += 1
        record.due = None
        self.report(f"{name} restarted (pid {record.process.pid}); restarts so far: {record.restarts}")
