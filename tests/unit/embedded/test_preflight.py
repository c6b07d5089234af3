"""Before `newsmon up` starts anything: a stack still running on the data dir is refused, what an earlier
one left is stopped and reported, and a taken port names its holder and, for another data dir's
stack, the exact command that stops it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from newsmon.embedded import EmbeddedError
from newsmon.preflight import check_ports, take_over_data_dir
from newsmon.process_identity import start_time
from newsmon.stack import Stack
from newsmon.stack_state import STACK_MARKER, ProcessState, StackState, read_state, write_state
from shared.settings import Settings

LISTEN = ("import socket, sys, time\ns = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
          "print('ready', flush=True)\ntime.sleep(600)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listener(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", LISTEN, str(port)], env={**os.environ, **env},
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    with process.stdout:
        assert process.stdout.readline() == b"ready\n"
    return process


def settings_on(tmp_path: Path, kafka_port: int) -> Settings:
    ports = {f"{name}_port": free_port() for name in ("fetcher", "dedupe", "ner", "alerter")}
    return Settings(_env_file=None, data_dir=tmp_path / "mine", embedded_kafka_port=kafka_port,
                    embedded_redis_port=free_port(), **ports)


def test_a_running_stack_on_the_data_dir_is_refused_with_the_command_that_stops_it(tmp_path: Path) -> None:
    write_state(tmp_path / "stack.json", StackState(os.getpid(), [], start_time(os.getpid())))
    with pytest.raises(EmbeddedError) as refused:
        take_over_data_dir(tmp_path, grace_s=5)
    assert f"newsmon up (pid {os.getpid()}) already runs" in str(refused.value)
    assert f"NEWSMON_DATA_DIR={tmp_path.resolve()} newsmon stop" in str(refused.value)


def test_a_refused_start_leaves_the_running_stacks_state_file_alone(tmp_path: Path) -> None:
    write_state(tmp_path / "stack.json", StackState(os.getpid(), [], start_time(os.getpid())))
    stack = Stack(Settings(_env_file=None, data_dir=tmp_path))
    with pytest.raises(EmbeddedError, match="already runs"):
        stack.start()
    stack.stop()  # what `newsmon up` does after any failed start
    state = read_state(tmp_path)
    assert state is not None and state.running()


def test_what_an_earlier_stack_left_running_is_stopped_and_reported(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = listener(free_port(), {})
    try:
        write_state(tmp_path / "stack.json", StackState(int(gone.stdout), [
            ProcessState("redis", left.pid, 0.0, create_time=start_time(left.pid))], supervisor_create_time=1.0))
        lines = take_over_data_dir(tmp_path, grace_s=5)
        assert lines == [f"stopped 1 processes left running by an earlier newsmon up (pid {int(gone.stdout)}) "
                         f"with this data dir: redis (pid {left.pid})"]
        assert left.wait(10) == -15
        assert take_over_data_dir(tmp_path, grace_s=5) == [], "nothing left the second time"
    finally:
        left.kill()
        left.wait()


def test_a_port_held_by_another_data_dirs_stack_names_that_stack_and_its_stop_command(tmp_path: Path) -> None:
    port = free_port()
    other = tmp_path / "other"
    other.mkdir()
    holder = listener(port, {STACK_MARKER: str(other)})
    try:
        write_state(other / "stack.json", StackState(12345678, [ProcessState("broker-relay", holder.pid, 0.0)]))
        with pytest.raises(EmbeddedError) as refused:
            check_ports(settings_on(tmp_path, port))
        message = str(refused.value)
        assert f"port {port}, where the embedded Kafka broker listens, is held by the newsmon stack of another " \
               f"data dir, {other} (broker-relay (pid {holder.pid}))" in message
        assert f"\n    NEWSMON_DATA_DIR={other} newsmon stop\n" in message
        assert "NEWSMON_EMBEDDED_KAFKA_PORT" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_port_held_by_another_program_names_it_and_the_setting_that_moves_the_stack(tmp_path: Path) -> None:
    port = free_port()
    holder = listener(port, {})
    try:
        with pytest.raises(EmbeddedError) as refused:
            check_ports(settings_on(tmp_path, port))
        program = Path(f"/proc/{holder.pid}/comm").read_text().strip()  # python or python3, as the tests were run
        assert str(refused.value) == (f"port {port}, where the embedded Kafka broker listens, is already in use by "
                                      f"{program} (pid {holder.pid}). Stop it, or give this stack another port with "
                                      "NEWSMON_EMBEDDED_KAFKA_PORT.")
    finally:
        holder.kill()
        holder.wait()
    check_ports(settings_on(tmp_path, port))  # free again: no complaint
