"""No child outlives the process that started it, a recorded pid is the same process only with its start
time, and a stack's leftovers stop services first, then the broker and Redis, paused or not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from newsmon.embedded import spawn
from newsmon.process_identity import Known, running, start_time, stop_in_order
from newsmon.stack_guard import SERVICES_STOP_S, start_guard
from newsmon.stack_state import STACK_MARKER, ProcessState, StackState, read_state, write_state
from tests.waiting import wait_until

# A child that notes in a file when SIGTERM reached it, then exits.
NOTE_SIGTERM = textwrap.dedent("""
    import signal, sys, time
    def stop(signum, frame):
        with open(sys.argv[1], "a") as notes:
            notes.write(sys.argv[2] + "\\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
""")
IGNORE_SIGTERM = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
                  "while True: time.sleep(1)")


def start(tmp_path: Path, name: str, script: str = NOTE_SIGTERM) -> subprocess.Popen[bytes]:
    """A child that has set up its signal handling."""
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "notes"), name], stdout=subprocess.PIPE)
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline() == b"ready\n"
    return child


def known(name: str, process: subprocess.Popen[bytes]) -> Known:
    return Known(name, process.pid, start_time(process.pid))


def test_a_pid_is_the_recorded_process_only_with_its_start_time(tmp_path: Path) -> None:
    child = start(tmp_path, "child")
    try:
        started = start_time(child.pid)
        assert started is not None and running(child.pid, started)
        # The same pid with another start time: what a pid reused by another program looks like.
        assert not running(child.pid, started - 3600)
        assert not ProcessState("redis", child.pid, started_at=0.0, create_time=started - 3600).alive()
    finally:
        child.kill()
        child.wait()
    assert not running(child.pid, started)


def test_leftovers_stop_services_first_then_the_infrastructure_in_reverse_start_order(tmp_path: Path) -> None:
    children = {name: start(tmp_path, name) for name in ("broker", "broker-relay", "redis", "dedupe", "ner")}
    redis = children["redis"]
    os.kill(redis.pid, signal.SIGSTOP)  # a paused Redis still acts on its SIGTERM (SIGCONT follows it)
    try:
        stopped = stop_in_order([known(name, child) for name, child in children.items()],
                                frozenset({"broker", "broker-relay", "redis"}), grace_s=10)
        assert {process.name for process in stopped} == set(children)
        for child in children.values():
            child.wait(10)
        notes = (tmp_path / "notes").read_text().split()
        assert set(notes[:2]) == {"dedupe", "ner"} and notes[2:] == ["redis", "broker-relay", "broker"]
    finally:
        for child in children.values():
            child.kill()
            child.wait()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    stubborn = start(tmp_path, "stubborn", IGNORE_SIGTERM)
    try:
        stop_in_order([known("dedupe", stubborn)], frozenset(), grace_s=0.5)
        assert stubborn.wait(10) == -signal.SIGKILL
    finally:
        stubborn.kill()
        stubborn.wait()


SPAWNER = textwrap.dedent("""
    import sys, threading
    from pathlib import Path
    from newsmon.embedded import spawn
    children = []
    # Spawned from a thread that ends at once: the child must outlive the thread, not the process.
    thread = threading.Thread(target=lambda: children.append(
        spawn("child", [sys.executable, "-c", "import time; time.sleep(600)"], Path(sys.argv[1]))))
    thread.start()
    thread.join()
    print(children[0].pid, flush=True)
    threading.Event().wait()
""")


def test_a_child_ends_with_the_process_that_spawned_it_even_when_that_is_killed(tmp_path: Path) -> None:
    spawner = subprocess.Popen([sys.executable, "-c", SPAWNER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert spawner.stdout is not None
    with spawner.stdout:
        child_pid = int(spawner.stdout.readline())
    child_started = start_time(child_pid)
    try:
        assert running(child_pid, child_started), "the child outlived the thread that asked for it"
        spawner.kill()  # SIGKILL: no handler runs, only the kernel's parent-death signal
        spawner.wait()
        wait_until(lambda: not running(child_pid, child_started), 10, "the child to end with its parent")
    finally:
        spawner.kill()
        if running(child_pid, child_started):
            os.kill(child_pid, signal.SIGKILL)


def test_a_spawned_process_carries_its_stacks_data_dir(tmp_path: Path) -> None:
    child = spawn("child", [sys.executable, "-c", f"import os; print(os.environ['{STACK_MARKER}'])"], tmp_path,
                  stack_dir=tmp_path / "data")
    child.process.wait(30)
    assert child.log_path.read_text().strip() == str((tmp_path / "data").resolve())


@pytest.fixture
def gone_pid() -> int:
    """The pid of a process that has ended (what a killed supervisor leaves in the state file)."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(finished.stdout)


def test_the_guard_stops_what_a_killed_supervisor_left_running(tmp_path: Path, gone_pid: int) -> None:
    children = {name: start(tmp_path, name) for name in ("redis", "alerter")}
    guard = start_guard(tmp_path, grace_s=5)
    try:
        processes = [ProcessState(name, child.pid, 0.0, create_time=start_time(child.pid))
                     for name, child in children.items()]
        write_state(tmp_path / "stack.json", StackState(gone_pid, processes, supervisor_create_time=1.0))
        assert guard.stdin is not None
        guard.stdin.close()  # what the supervisor's death does to the pipe
        assert guard.wait(30) == 0
        assert [child.wait(10) for child in children.values()] == [0, 0]
        assert (tmp_path / "notes").read_text().split() == ["alerter", "redis"]
        log = (tmp_path / "logs" / "stack-guard.log").read_text()
        assert "stopped redis (pid" in log and "alerter (pid" in log
    finally:
        guard.kill()
        for child in children.values():
            child.kill()
            child.wait()


def test_the_guard_acts_when_the_pipe_closes_a_moment_before_the_supervisor_has_ended(tmp_path: Path) -> None:
    """The kernel releases a dying process's files before it counts as ended: a guard that read the end of file
    while the supervisor was still being torn down must wait for it, not take it for a supervisor in charge."""
    supervisor = start(tmp_path, "supervisor", IGNORE_SIGTERM)  # still running when the pipe closes
    redis = start(tmp_path, "redis")
    guard = start_guard(tmp_path, grace_s=5)
    try:
        processes = [ProcessState("redis", redis.pid, 0.0, create_time=start_time(redis.pid))]
        write_state(tmp_path / "stack.json", StackState(supervisor.pid, processes,
                                                        supervisor_create_time=start_time(supervisor.pid)))
        assert guard.stdin is not None
        guard.stdin.close()
        time.sleep(0.5)
        assert redis.poll() is None, "the guard acted while the supervisor still ran"
        supervisor.kill()
        supervisor.wait()
        assert guard.wait(30) == 0
        assert redis.wait(10) == 0 and (tmp_path / "notes").read_text().split() == ["redis"]
    finally:
        guard.kill()
        for child in (supervisor, redis):
            child.kill()
            child.wait()


def test_the_guard_does_not_wait_out_the_services_deadline_before_stopping_redis(tmp_path: Path, gone_pid: int) -> None:
    """A service stuck in its stop holds Redis and the broker back only briefly, not for the whole shutdown
    timeout the guard was given: the supervisor is gone, so nothing is left to wait for."""
    stuck = start(tmp_path, "ner", IGNORE_SIGTERM)
    redis = start(tmp_path, "redis")
    guard = start_guard(tmp_path, grace_s=60)
    try:
        processes = [ProcessState(name, child.pid, 0.0, create_time=start_time(child.pid))
                     for name, child in (("redis", redis), ("ner", stuck))]
        write_state(tmp_path / "stack.json", StackState(gone_pid, processes, supervisor_create_time=1.0))
        assert guard.stdin is not None
        closed_at = time.monotonic()
        guard.stdin.close()
        assert guard.wait(30) == 0
        took_s = time.monotonic() - closed_at
        assert stuck.wait(10) == -signal.SIGKILL
        assert redis.wait(10) == 0 and (tmp_path / "notes").read_text().split() == ["redis"]  # SIGTERM, not SIGKILL
        assert SERVICES_STOP_S <= took_s < 20, took_s
    finally:
        guard.kill()
        for child in (stuck, redis):
            child.kill()
            child.wait()


def test_after_a_clean_stop_the_guard_leaves_without_touching_anything(tmp_path: Path) -> None:
    bystander = start(tmp_path, "bystander")
    guard = start_guard(tmp_path, grace_s=5)
    try:
        assert read_state(tmp_path) is None  # the supervisor removes the state file before closing the pipe
        guard.communicate(timeout=30)
        assert guard.returncode == 0 and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        guard.kill()


def test_spawn_works_from_any_thread(tmp_path: Path) -> None:
    pids: list[int] = []
    threads = [threading.Thread(target=lambda: pids.append(
        spawn("t", [sys.executable, "-c", "pass"], tmp_path).process.wait(30) or 1)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert pids == [1, 1, 1]
