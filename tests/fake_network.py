"""A pretend internet for the address-guard tests: scripted DNS, and a network that reaches only stand-ins on 127.0.0.1.

Tests never send anything beyond loopback, yet the guard must be shown accepting a public address
and refusing the rest. ``ScriptedResolver`` answers host names from the test's script (no DNS query
leaves the machine) and records every lookup. ``StandInNetwork`` is an httpcore network backend
that records every address it is asked to connect to, connects the public addresses the test lists
to a local server standing in for them, and refuses any other without opening a socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

import httpcore

PUBLIC_ADDRESS = "93.184.216.34"  # globally routable; only ever reached through a stand-in


class ScriptedResolver:
    """Answers from ``script``: host -> successive answers (the last one repeats); unknown hosts do not resolve."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = {host: list(answers) for host, answers in script.items()}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self.script.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test's DNS script")
        return answers.pop(0) if len(answers) > 1 else answers[0]


class StandInNetwork(httpcore.AsyncNetworkBackend):
    """Connects ``stand_ins`` (public address -> local port) to 127.0.0.1; records every attempt, refuses the rest."""

    def __init__(self, stand_ins: dict[str, int]) -> None:
        self.stand_ins = stand_ins
        self.attempts: list[str] = []
        self._loopback = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append(host)
        if host not in self.stand_ins:
            raise httpcore.ConnectError(f"test network: {host} is out of bounds, nothing was sent")
        return await self._loopback.connect_tcp("127.0.0.1", self.stand_ins[host], timeout=timeout)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("test network: no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
