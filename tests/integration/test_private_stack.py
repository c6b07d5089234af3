"""The embedded stack is private (issue #13): Redis answers nothing without the password kept in the data
dir, the data dir and its logs are the owner's alone, every process listens on 127.0.0.1 only, and
the console shows no password."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
from pathlib import Path

from newsmon.stack import Stack


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def redis_cli(stack: Stack, *arguments: str, password: str | None = None) -> str:
    """Debian's redis-cli against the embedded Redis; the password (if any) through its environment."""
    env = {name: value for name, value in os.environ.items() if name != "REDISCLI_AUTH"}
    if password is not None:
        env["REDISCLI_AUTH"] = password
    result = subprocess.run(["redis-cli", "-p", str(stack.settings.embedded_redis_port), *arguments],
                            env=env, capture_output=True, text=True, timeout=30)
    return (result.stdout + result.stderr).strip()


def test_redis_answers_noauth_without_the_password_and_pong_with_it(stack: Stack) -> None:
    assert "NOAUTH" in redis_cli(stack, "ping")
    password = stack.settings.embedded_redis_password_path.read_text().strip()
    assert redis_cli(stack, "ping", password=password) == "PONG"
    assert redis_cli(stack, "config", "get", "appendonly", password=password).split() == ["appendonly", "yes"]


def test_the_data_dir_its_logs_and_secrets_are_owner_only(stack: Stack) -> None:
    data_dir = stack.settings.data_dir
    assert mode(data_dir) == 0o700 and mode(stack.log_dir) == 0o700
    logs = list(stack.log_dir.glob("*.log"))
    assert {path.stem for path in logs} >= {"broker", "broker-relay", "redis", "fetcher", "dedupe", "ner", "alerter",
                                                 "notifier"}
    assert {path.name: mode(path) for path in logs} == {path.name: 0o600 for path in logs}
    assert mode(stack.settings.embedded_redis_password_path) == 0o600
    assert mode(stack.state_path) == 0o600


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on, read from /proc."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word of the address in host (little-endian) order.
                words = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
                found.add((str(ipaddress.ip_address(words)), int(port, 16)))
    return found


def test_every_process_of_the_stack_listens_on_loopback_only(stack: Stack) -> None:
    processes = [*stack.infrastructure, *stack.services.values()]
    addresses = {process.name: listening_addresses(process.pid) for process in processes}
    assert (("127.0.0.1", stack.settings.embedded_kafka_port) in addresses["broker-relay"]
            and ("127.0.0.1", stack.settings.embedded_redis_port) in addresses["redis"]
            and ("127.0.0.1", stack.settings.alerter_port) in addresses["alerter"]
            and ("127.0.0.1", stack.settings.notifier_port) in addresses["notifier"]), addresses
    assert {name: {address for address, _ in found} - {"127.0.0.1"} for name, found in addresses.items()} == {
        process.name: set() for process in processes}


def test_the_console_description_names_redis_without_its_password(stack: Stack) -> None:
    password = stack.settings.embedded_redis_password_path.read_text().strip()
    described = stack.describe()
    assert f"redis://127.0.0.1:{stack.settings.embedded_redis_port}/0" in described
    assert password not in described
