"""Who listens on a local port, so that ``newsmon up`` can say which program holds a port it needs, and
for a newsmon stack of another data dir, the exact command that stops it.

A process of a stack carries the stack's data dir in its environment (``STACK_MARKER``). Redis
rewrites the memory that ``/proc/<pid>/environ`` shows to set its process title, so for a process
without a readable mark the data dir is also looked for from its working directory (Redis runs in
``<data dir>/redis``): a state file there that lists its pid says which stack it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil

from newsmon.stack_state import STACK_MARKER, read_state


@dataclass(frozen=True)
class PortOwner:
    """The process listening on a port; ``stack_dir`` is the data dir of the newsmon stack it belongs to."""

    pid: int
    name: str
    stack_dir: Path | None


def port_owner(port: int) -> PortOwner | None:
    """The process that listens on TCP ``port``, when this user may see it (root sees every process)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for connection in connections:
        if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port \
                and connection.pid:
            return _describe(connection.pid)
    return None


def _describe(pid: int) -> PortOwner | None:
    try:
        process = psutil.Process(pid)
        name = process.name()
        try:
            marker = process.environ().get(STACK_MARKER)
            working_dir = Path(process.cwd())
        except psutil.AccessDenied:
            return PortOwner(pid, name, None)
    except psutil.NoSuchProcess:
        return None
    if marker:
        return PortOwner(pid, name, Path(marker))
    return PortOwner(pid, name, _stack_listing(pid, [working_dir, working_dir.parent]))


def _stack_listing(pid: int, candidates: list[Path]) -> Path | None:
    """The first of ``candidates`` whose state file lists ``pid``."""
    for data_dir in candidates:
        state = read_state(data_dir)
        if state is not None and any(process.pid == pid for process in state.processes):
            return data_dir
    return None
