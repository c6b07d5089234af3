"""The state file `newsmon up` keeps for `newsmon status` and `newsmon processes`: pids, restarts and the
last exit of each process, and no live processes claimed once its supervisor is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from newsmon.stack_state import ProcessState, StackState, read_state, state_lines, write_state


def test_the_state_reads_back_and_says_what_restarted_and_why(tmp_path: Path) -> None:
    now = 1_000_000.0
    processes = [
        ProcessState("redis", os.getpid(), started_at=now - 300),
        ProcessState("ner", os.getpid(), started_at=now - 20, restarts=2, last_exit="killed by SIGKILL",
                     last_exit_at=now - 21, last_log_line="ner.enriched"),
    ]
    write_state(tmp_path / "stack.json", StackState(os.getpid(), processes))

    state = read_state(tmp_path)
    assert state is not None and state.running() and state.pid("ner") == os.getpid()
    assert state.processes == processes
    assert [process.line(now) for process in state.processes] == [
        f"redis         pid {os.getpid():<8} up 5m       restarts 0",
        f"ner           pid {os.getpid():<8} up 20s      restarts 2  (last: killed by SIGKILL, 21s ago)",
    ]


def test_a_state_left_by_a_supervisor_that_is_gone_is_not_taken_for_a_running_stack(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(gone.stdout)
    write_state(tmp_path / "stack.json", StackState(pid, [ProcessState("redis", pid, started_at=0.0)]))

    state = read_state(tmp_path)
    assert state is not None and not state.running() and not state.processes[0].alive()
    assert state_lines(state, tmp_path) == [
        f"`newsmon up` (pid {pid}) is not running; its state file is from an earlier run"]
    assert read_state(tmp_path / "elsewhere") is None
