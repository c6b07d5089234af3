"""The supervision loop on real child processes: a death is reported with its exit and last log line
(without credentials), the process is started again after its backoff, a process stopped on purpose
stays stopped, and a restart that fails is tried again."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.embedded import EmbeddedError, spawn
from newsmon.restart_policy import Backoff
from newsmon.supervisor import Supervised, Supervisor, without_credentials
from tests.waiting import wait_until

CRASH = [sys.executable, "-c", "print('lost redis://:hunter2@127.0.0.1:6379/0', flush=True); raise SystemExit(3)"]
RUN = [sys.executable, "-c", "import time; time.sleep(120)"]


class ToyStack:
    """Processes revived by running their command again; ``failing_revivals`` revivals raise first."""

    def __init__(self, log_dir: Path, commands: dict[str, list[str]]) -> None:
        self.lock = threading.RLock()
        self.log_dir = log_dir
        self.commands = commands
        self.failing_revivals = 0
        self.saved = 0
        self.records = {name: Supervised(spawn(name, argv, log_dir), Backoff(initial_s=0.05, cap_s=1))
                        for name, argv in commands.items()}

    def supervised(self) -> dict[str, Supervised]:
        return self.records

    def revive(self, name: str) -> None:
        if self.failing_revivals:
            self.failing_revivals -= 1
            raise EmbeddedError("port 1 is already in use\nand more detail")
        self.records[name].replaced_by(spawn(name, self.commands[name], self.log_dir))

    def revival_note(self, name: str) -> str:
        return "with a note" if name == "crash" else ""

    def save_state(self) -> None:
        self.saved += 1


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ToyStack]:
    stack = ToyStack(tmp_path, {"crash": CRASH, "steady": RUN})
    yield stack
    for record in stack.records.values():
        record.process.stop(timeout=5)


def test_a_dead_process_is_reported_and_started_again(stack: ToyStack) -> None:
    lines: list[str] = []
    supervisor = Supervisor(stack, lines.append)
    first = stack.records["crash"].process
    wait_until(lambda: not first.alive(), 30, "the crashing process to exit")

    supervisor.check()
    assert lines == [f"crash (pid {first.pid}) died: exit status 3; restarting in 0s; with a note. "
                     "Its last log line: lost redis://127.0.0.1:6379/0"]
    wait_until(lambda: (supervisor.check(), stack.records["crash"].restarts)[1] == 1, 30, "the restart")
    record = stack.records["crash"]
    assert record.process.pid != first.pid and record.last_exit == "exit status 3"
    assert lines[-1] == f"crash restarted (pid {record.process.pid}); restarts so far: 1"
    assert stack.records["steady"].restarts == 0 and stack.saved >= 2
    assert [state.restarts for state in (record.state(), stack.records["steady"].state())] == [1, 0]


def test_a_process_stopped_on_purpose_stays_stopped(stack: ToyStack) -> None:
    lines: list[str] = []
    stack.records["steady"].process.stop(timeout=5)
    supervisor = Supervisor(stack, lines.append)
    for _ in range(3):
        supervisor.check()
    assert not [line for line in lines if line.startswith("steady")]
    assert not stack.records["steady"].process.alive()


def test_a_failed_restart_is_tried_again_with_the_next_delay(stack: ToyStack) -> None:
    lines: list[str] = []
    stack.failing_revivals = 1
    supervisor = Supervisor(stack, lines.append).start()
    try:
        wait_until(lambda: stack.records["crash"].restarts >= 1, 30, "a restart after the failed attempt")
    finally:
        supervisor.stop()
    assert "crash could not be restarted (port 1 is already in use); trying again in 0s" in lines


def test_credentials_in_any_url_are_left_out() -> None:
    assert without_credentials("redis://:pw@127.0.0.1:1/0 and https://user:pw@example.com/x") == (
        "redis://127.0.0.1:1/0 and https://example.com/x")
