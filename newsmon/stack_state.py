"""The state file of a running local stack: which processes ``newsmon up`` supervises, their pids,
and how often each was restarted and why.

The supervisor rewrites ``<data dir>/stack.json`` (owner-only, replaced in one step) whenever a
process starts or dies, and removes it when the stack stops. ``newsmon status`` and ``newsmon
processes`` read it; tests find a process's pid there to signal it. It is also the stack's pid file:
each pid is kept with its process's start time, so a file left by a supervisor that no longer runs
(killed with SIGKILL) is reported as not running, a pid the kernel has since given to another
program is never taken for one of the stack's, and what is left of that stack can be stopped
(``leftovers``, ``newsmon.process_identity``). Every process of a stack also carries its data dir
in the environment variable ``STACK_MARKER``, so a port's listener can be traced to its stack.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from newsmon.private_files import write_private_file
from newsmon.process_identity import Known, running, still_running

STATE_FILE = "stack.json"
STACK_MARKER = "NEWSMON_STACK"
BROKER, RELAY, REDIS = "broker", "broker-relay", "redis"
# In start order; they stop after the services, in reverse order.
INFRASTRUCTURE = (BROKER, RELAY, REDIS)


@dataclass(frozen=True)
class ProcessState:
    """One supervised process. ``restarts`` counts the times the supervisor started it again after it
    died (or, for a service, after the broker it reads came back empty); ``last_exit`` says how it
    last ended (``killed by SIGKILL``, ``exit status 1``) and ``last_log_line`` what it wrote last."""

    name: str
    pid: int
    started_at: float
    restarts: int = 0
    last_exit: str | None = None
    last_exit_at: float | None = None
    last_log_line: str | None = None
    restarting: bool = False
    create_time: float | None = None  # the kernel's start time of ``pid``; None in files of older releases

    def alive(self) -> bool:
        """True while this process runs (same pid and start time; the supervisor reaps its dead children
        within a second)."""
        return running(self.pid, self.create_time) and not self.restarting

    def known(self) -> Known:
        return Known(self.name, self.pid, self.create_time)

    def line(self, now: float) -> str:
        """One console line: name, pid, uptime, restarts and the last exit."""
        if self.alive():
            state = f"up {_duration(now - self.started_at)}"
        else:
            state = "RESTARTING" if self.restarting else "DOWN"
        line = f"{self.name:<13} pid {self.pid:<8} {state:<11} restarts {self.restarts}"
        if self.last_exit is not None and self.last_exit_at is not None:
            line += f"  (last: {self.last_exit}, {_duration(now - self.last_exit_at)} ago)"
        return line


@dataclass(frozen=True)
class StackState:
    """What ``newsmon up`` (pid ``supervisor_pid``) runs now."""

    supervisor_pid: int
    processes: list[ProcessState]
    supervisor_create_time: float | None = None

    def running(self) -> bool:
        """True while the ``newsmon up`` that wrote this state runs."""
        return running(self.supervisor_pid, self.supervisor_create_time)

    def leftovers(self) -> list[Known]:
        """The processes of this state that still run (the stack's, by pid and start time), in start order."""
        return still_running(process.known() for process in self.processes)

    def pid(self, name: str) -> int:
        """The pid of the named process (``broker``, ``broker-relay``, ``redis``, or a service)."""
        for process in self.processes:
            if process.name == name:
                return process.pid
        raise KeyError(f"newsmon up runs no process named {name!r}")


def write_state(path: Path, state: StackState) -> None:
    write_private_file(path, json.dumps(asdict(state), indent=1) + "\n")


def read_state(data_dir: Path) -> StackState | None:
    """The state written by the ``newsmon up`` of ``data_dir``, or None when none was started there."""
    try:
        document = json.loads((data_dir / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return StackState(document["supervisor_pid"], [ProcessState(**entry) for entry in document["processes"]],
                      document.get("supervisor_create_time"))


def state_lines(state: StackState | None, data_dir: Path) -> list[str]:
    """What ``newsmon status`` prints about the supervised processes."""
    if state is None:
        return [f"no `newsmon up` has run with data dir {data_dir} (its processes are not supervised here)"]
    if not state.running():
        return [f"`newsmon up` (pid {state.supervisor_pid}) is not running; its state file is from an earlier run"]
    now = time.time()
    return [f"processes of `newsmon up` (pid {state.supervisor_pid}):",
            *(f"  {process.line(now)}" for process in state.processes)]


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
