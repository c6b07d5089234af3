"""`newsmon up` under systemd (Type=notify): the readiness and stop notices reach the socket systemd names,
and outside systemd nothing is sent and nothing fails."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from newsmon.systemd_notify import notify


def test_the_notices_arrive_as_one_datagram_of_lines(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        assert notify("READY=1", "STATUS=every service is ready", environ={"NOTIFY_SOCKET": str(path)})
        assert notify("STOPPING=1", environ={"NOTIFY_SOCKET": str(path)})
        systemd.settimeout(5)
        assert systemd.recv(4096) == b"READY=1\nSTATUS=every service is ready"
        assert systemd.recv(4096) == b"STOPPING=1"


def test_an_abstract_socket_name_is_understood() -> None:
    name = f"newsmon-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind("\0" + name)
        assert notify("READY=1", environ={"NOTIFY_SOCKET": "@" + name})
        systemd.settimeout(5)
        assert systemd.recv(4096) == b"READY=1"


def test_outside_systemd_nothing_is_sent_and_a_broken_socket_does_not_fail_the_stack(tmp_path: Path) -> None:
    assert not notify("READY=1", environ={})
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
