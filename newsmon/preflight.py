"""What ``newsmon up`` checks before it starts anything: that no other stack runs on its data dir (and
what an earlier one left running is stopped), and that every port it will listen on is free.

Each refusal is an ``EmbeddedError`` whose message says what holds the data dir or the port and
the command that frees it.
"""

from __future__ import annotations

from pathlib import Path

from newsmon.embedded import EmbeddedError, port_open
from newsmon.port_owner import port_owner
from newsmon.process_identity import stop_in_order
from newsmon.stack_state import INFRASTRUCTURE, read_state
from shared.settings import SERVICE_NAMES, Settings


def stop_command(data_dir: Path) -> str:
    """The command that stops the stack of ``data_dir``, as a person types it."""
    return f"NEWSMON_DATA_DIR={data_dir.resolve()} newsmon stop"


def take_over_data_dir(data_dir: Path, grace_s: float) -> list[str]:
    """Stop what an earlier ``newsmon up`` of ``data_dir`` left running (services first, then the broker and
    Redis), and return what to tell the user about it; refuse while that ``newsmon up`` still runs."""
    state = read_state(data_dir)
    if state is None:
        return []
    if state.running():
        raise EmbeddedError(f"newsmon up (pid {state.supervisor_pid}) already runs with data dir "
                            f"{data_dir.resolve()}. Stop it first:\n    {stop_command(data_dir)}")
    left = state.leftovers()
    if not left:
        return []
    stopped = stop_in_order(left, frozenset(INFRASTRUCTURE), grace_s)
    return [f"stopped {len(stopped)} processes left running by an earlier newsmon up (pid {state.supervisor_pid}) "
            f"with this data dir: {', '.join(process.describe() for process in stopped)}"]


def check_ports(settings: Settings) -> None:
    """Refuse to start when a port the stack would listen on is taken, naming who holds it."""
    wanted: list[tuple[int, str, str]] = []
    if settings.kafka_bootstrap is None:
        wanted.append((settings.embedded_kafka_port, "the embedded Kafka broker", "NEWSMON_EMBEDDED_KAFKA_PORT"))
    if settings.redis_url is None:
        wanted.append((settings.embedded_redis_port, "the embedded Redis", "NEWSMON_EMBEDDED_REDIS_PORT"))
    for name in SERVICE_NAMES:
        wanted.append((settings.service_port(name), f"the {name} service", f"NEWSMON_{name.upper()}_PORT"))
    for port, what, variable in wanted:
        if port_open("127.0.0.1", port):
            raise EmbeddedError(_taken_message(settings.data_dir, port, what, variable))


def _taken_message(data_dir: Path, port: int, what: str, variable: str) -> str:
    owner = port_owner(port)
    where = f"port {port}, where {what} listens,"
    other_ports = f"or give this stack another port with {variable}"
    if owner is None:
        return f"{where} is already in use by another program. Stop it, {other_ports}."
    holder = f"{_role(owner.stack_dir, owner.pid) or owner.name} (pid {owner.pid})"
    if owner.stack_dir is None:
        return f"{where} is already in use by {holder}. Stop it, {other_ports}."
    if owner.stack_dir == data_dir.resolve():
        return (f"{where} is held by {holder}, a process of this data dir's stack that its state file does not "
                f"list. Stop it:\n    kill {owner.pid}")
    return (f"{where} is held by the newsmon stack of another data dir, {owner.stack_dir} ({holder}). "
            f"Stop that stack:\n    {stop_command(owner.stack_dir)}\n{other_ports}.")


def _role(stack_dir: Path | None, pid: int) -> str | None:
    """What the process ``pid`` is in the stack of ``stack_dir`` (``broker-relay``), from its state file."""
    state = read_state(stack_dir) if stack_dir is not None else None
    return next((process.name for process in state.processes if process.pid == pid), None) if state else None
