"""The state file of a running local stack: which processes ``newsmon up`` supervises, their pids,
and how often each was restarted and why.

The supervisor rewrites ``<data dir>/stack.json`` (owner-only, replaced in one step) whenever a
process starts or dies, and removes it when the stack stops. ``newsmon status`` and ``newsmon
processes`` read it; tests find a process's pid there to signal it. A file left by a supervisor
that no longer runs (killed with SIGKILL) is reported as not running, never as live processes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from newsmon.private_files import write_private_file

STATE_FILE = "stack.json"


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

    def alive(self) -> bool:
        """True while a process with this pid exists (the supervisor reaps its dead children within a second)."""
        return _pid_exists(self.pid) and not self.restarting

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

    def running(self) -> bool:
        return _pid_exists(self.supervisor_pid)

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
    return StackState(document["supervisor_pid"], [ProcessState(**entry) for entry in document["processes"]])


def state_lines(state: StackState | None, data_dir: Path) -> list[str]:
    """What ``newsmon status`` prints about the supervised processes."""
    if state is None:
        return [f"no `newsmon up` has run with data dir {data_dir} (its processes are not supervised here)"]
    if not state.running():
        return [f"`newsmon up` (pid {state.supervisor_pid}) is not running; its state file is from an earlier run"]
    now = time.time()
    return [f"processes of `newsmon up` (pid {state.supervisor_pid}):",
            *(f"  {process.line(now)}" for process in state.processes)]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
