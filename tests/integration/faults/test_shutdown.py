"""`newsmon up` run like a service for months: whatever ends it, nothing of its stack runs on, and the next
start is a normal one.

- `kill -9` of `newsmon up`: every process of its stack has ended within 10 s, and `newsmon up` on the
  same data dir starts as if nothing had happened.
- SIGTERM (systemd's stop) with the broker paused mid-stream: everything has ended within 15 s, and
  systemd was told READY=1 once every service was ready and STOPPING=1 when the stop began.
- processes left by an earlier `newsmon up` whose guard died with it: the next `newsmon up` stops them
  and says so.
- a stack of another data dir on the same ports: refused with the command that stops it, which works.

Each test starts its own `newsmon up` and signals only processes of that stack, by pid. Each prints
how long the stop took; the README's "Faults it survives" table quotes these lines.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from newsmon.process_identity import Known, still_running
from newsmon.stack_state import INFRASTRUCTURE, STACK_MARKER, read_state
from shared.settings import SERVICE_NAMES
from tests.integration.console import Console, stack_ports, up_environment
from tests.integration.faults.articles import write_batch
from tests.integration.faults.up_stack import RECOVERY_TIMEOUT_S, UpStack, seconds_since
from tests.waiting import wait_until

KILLED_UP_ENDS_S = 10.0
PAUSED_BROKER_STOP_S = 15.0


def new_up(root: Path, extra_env: dict[str, str] | None = None, ports: dict[str, int] | None = None) -> UpStack:
    """A `newsmon up` (not started yet) of its own data dir under ``root``, on free ports unless given."""
    root.mkdir(parents=True, exist_ok=True)
    ports = ports or stack_ports()
    env = up_environment(ports, root / ".newsmon") | {"NEWSMON_LOG_FORMAT": "json"} | (extra_env or {})
    return UpStack(root, env, ports)


def stack_processes(data_dir: Path) -> list[psutil.Process]:
    """Every live process (zombies are not) of the stack of ``data_dir``: those its state file lists now or
    listed when first read here (by pid and start time), and any that carries its mark (what `ps e`
    shows; Redis overwrites its own)."""
    state = read_state(data_dir)
    if state is not None:
        _listed.setdefault(data_dir, set()).update(process.known() for process in state.processes)
    pids = {known.pid for known in still_running(_listed.get(data_dir, set()))}
    mark = str(data_dir.resolve())
    for process in psutil.process_iter():
        try:
            if process.environ().get(STACK_MARKER) == mark and process.status() != psutil.STATUS_ZOMBIE:
                pids.add(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return [psutil.Process(pid) for pid in sorted(pids) if psutil.pid_exists(pid)]


_listed: dict[Path, set[Known]] = {}


def names(processes: list[psutil.Process]) -> list[str]:
    described = []
    for process in processes:
        try:
            described.append(f"{process.pid} {' '.join(process.cmdline())[:80]}")
        except psutil.NoSuchProcess:
            continue
    return described


def wait_all_ended(up: UpStack, timeout: float, what: str) -> float:
    """Until no process of ``up``'s stack runs; returns the seconds it took."""
    started = time.monotonic()
    wait_until(lambda: not stack_processes(up.data_dir), timeout,
               lambda: f"{what}: still running {names(stack_processes(up.data_dir))}")
    return seconds_since(started)


def supervisor(up: UpStack) -> subprocess.Popen[str]:
    assert up.console is not None
    return up.console.process


def kill_supervisor(up: UpStack) -> None:
    """``kill -9`` of `newsmon up` (its console is then closed, as a terminal would be)."""
    assert up.console is not None
    up.console.process.kill()
    up.console.process.wait(10)
    up.console.stop()


def guard_of(up: UpStack) -> psutil.Process:
    """The guard process that `newsmon up` started (its child running newsmon.stack_guard)."""
    [guard] = [child for child in psutil.Process(supervisor(up).pid).children()
               if "newsmon.stack_guard" in child.cmdline()]
    return guard


def finish(up: UpStack) -> None:
    """Teardown: stop ``up`` as a user would if it still runs, then SIGKILL whatever a test that failed
    half-way left of this test's own stack."""
    if up.console is not None and up.console.process.poll() is None:
        up.stop()
    elif up.console is not None:
        up.console.stop()  # its output ends with it
    for process in stack_processes(up.data_dir):
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue


def test_kill_9_of_newsmon_up_leaves_nothing_running_and_the_next_up_starts_normally(tmp_path: Path) -> None:
    up = new_up(tmp_path).start()
    try:
        # Every process of the state file and the guard run; any other process of the stack is one of ner's
        # workers (NEWSMON_NER_N_PROCESS), and must end with the rest.
        listed = {process.pid for process in up.state().processes} | {guard_of(up).pid}
        assert len(listed) == len(SERVICE_NAMES) + len(INFRASTRUCTURE) + 1
        others = [process for process in stack_processes(up.data_dir) if process.pid not in listed]
        assert listed <= {process.pid for process in stack_processes(up.data_dir)}
        assert all(process.ppid() == up.state().pid("ner") for process in others), names(others)
        up.replay(write_batch(up.root, "before-kill", 4))  # work in flight when the supervisor dies

        kill_supervisor(up)
        ended_s = wait_all_ended(up, KILLED_UP_ENDS_S, "kill -9 of newsmon up")
        print(f"\nFAULT newsmon up SIGKILL: every process of its stack ended after {ended_s:.1f}s")
        guard_log = (up.data_dir / "logs" / "stack-guard.log").read_text()
        assert "newsmon up ended without stopping its processes; stopped " in guard_log
        # Redis was stopped, not killed: it flushed its append-only file on the way out.
        redis_log = (up.data_dir / "logs" / "redis.log").read_text()
        assert "Calling fsync() on the AOF file" in redis_log and "ready to exit" in redis_log

        restarted_at = time.monotonic()
        up.start()
        wait_until(up.all_ready, RECOVERY_TIMEOUT_S, lambda: f"every service ready again:\n{up.tail()}")
        print(f"RESTART after SIGKILL: ready again after {seconds_since(restarted_at):.1f}s")
        assert not [line for line in up.console_lines() if "left running" in line], up.tail()
        assert up.cli("status").returncode == 0
    finally:
        finish(up)
    assert not stack_processes(up.data_dir)


def test_sigterm_with_the_broker_paused_stops_everything_within_15_s_and_systemd_is_told(tmp_path: Path) -> None:
    notify_path = tmp_path / "notify.sock"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(notify_path))
    systemd.settimeout(0.2)
    up = new_up(tmp_path / "up", {"NOTIFY_SOCKET": str(notify_path)})
    notices: list[str] = []

    def heard(notice: str) -> bool:
        try:
            notices.extend(systemd.recv(4096).decode().splitlines())
        except TimeoutError:
            pass
        return notice in notices

    try:
        up.start()
        wait_until(lambda: heard("READY=1"), 30, lambda: f"READY=1 from newsmon up; got {notices}")
        assert up.all_ready(), "READY=1 only once every service is ready"
        up.replay(write_batch(up.root, "in-flight", 8))
        broker = up.state().pid("broker")
        os.kill(broker, signal.SIGSTOP)

        stopping_at = time.monotonic()
        supervisor(up).send_signal(signal.SIGTERM)
        supervisor(up).wait(PAUSED_BROKER_STOP_S + 5)
        up_exit_s = seconds_since(stopping_at)
        ended_s = up_exit_s + wait_all_ended(up, 5, "SIGTERM with the broker paused")
        print(f"\nFAULT broker paused, SIGTERM to newsmon up: newsmon up exited after {up_exit_s:.1f}s, "
              f"every process ended after {ended_s:.1f}s")
        assert ended_s < PAUSED_BROKER_STOP_S
        assert up.console_lines()[-1] == "stopped.", up.tail()
        assert supervisor(up).returncode == 0
        wait_until(lambda: heard("STOPPING=1"), 5, lambda: f"STOPPING=1 from newsmon up; got {notices}")

        # Each service logged how its stop ended: in time, or cut at the deadline with what it left.
        for name in SERVICE_NAMES:
            events = [json.loads(line).get("event") for line in
                      (up.data_dir / "logs" / f"{name}.log").read_text().splitlines() if line.startswith("{")]
            assert "service.stopping" in events, name
            assert {"service.stopped", "service.shutdown_abandoned"} & set(events), name
            print(f"  {name}: {'cut at the deadline' if 'service.shutdown_abandoned' in events else 'stopped'}")
    finally:
        systemd.close()
        finish(up)


def test_processes_left_by_an_earlier_up_are_stopped_by_the_next_one_and_reported(tmp_path: Path) -> None:
    up = new_up(tmp_path).start()
    try:
        infrastructure = {name: up.state().pid(name) for name in INFRASTRUCTURE}
        # Both killed at once (as the OOM killer or a cgroup kill of the two could): the services still
        # end with their parent, but nothing stops the broker and Redis.
        guard_of(up).kill()
        kill_supervisor(up)
        wait_until(lambda: {process.pid for process in stack_processes(up.data_dir)} == set(infrastructure.values()),
                   KILLED_UP_ENDS_S, lambda: f"only the infrastructure left: {names(stack_processes(up.data_dir))}")

        restarted_at = time.monotonic()
        up.start()
        print(f"\nLEFTOVERS of a killed newsmon up and its guard: stopped, and the new stack up after "
              f"{seconds_since(restarted_at):.1f}s")
        [report] = [line for line in up.console_lines() if "left running by an earlier newsmon up" in line]
        for name, pid in infrastructure.items():
            assert f"{name} (pid {pid})" in report
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        wait_until(up.all_ready, RECOVERY_TIMEOUT_S, lambda: f"every service ready:\n{up.tail()}")
    finally:
        finish(up)


def test_a_stack_of_another_data_dir_on_the_same_ports_is_refused_with_the_command_that_stops_it(
    tmp_path: Path,
) -> None:
    first = new_up(tmp_path / "first").start()
    try:
        second = new_up(tmp_path / "second", ports=first.ports)
        refused = Console.start([sys.executable, "-m", "newsmon", "up"], second.env, second.root)
        assert refused.process.wait(60) == 2
        refused.stop()
        command = f"NEWSMON_DATA_DIR={first.data_dir.resolve()} newsmon stop"
        assert any(line.strip() == command for line in refused.lines), "\n".join(refused.lines)
        assert not stack_processes(second.data_dir)

        # The exact command, as printed, in a shell with newsmon on its PATH.
        path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        stopping_at = time.monotonic()
        stopped = subprocess.run(["sh", "-c", command], env={**second.env, "PATH": path}, cwd=second.root,
                                 capture_output=True, text=True, timeout=120)
        assert stopped.returncode == 0 and stopped.stdout.splitlines()[-1] == "stopped.", stopped.stdout
        print(f"\nSTOP by `newsmon stop` from another directory: every process ended after "
              f"{seconds_since(stopping_at):.1f}s")
        assert not stack_processes(first.data_dir)
        assert first.console is not None and first.console.process.wait(10) == 0
    finally:
        finish(first)
