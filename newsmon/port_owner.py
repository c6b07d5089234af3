"""Who listens on a local port, so that ``newsmon up`` can say which program holds a port it needs, and
for a newsmon stack of another data dir, the exact command that stops it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil

from newsmon.stack_state import STACK_MARKER


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
        except psutil.AccessDenied:
            marker = None
    except psutil.NoSuchProcess:
        return None
    return PortOwner(pid, name, Path(marker) if marker else None)
