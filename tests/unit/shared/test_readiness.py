"""/readyz's broker check: a broker that is down or mute makes a service not ready, with the reason."""

from __future__ import annotations

import asyncio
import time

from newsmon.embedded import free_port
from shared.readiness import broker_answers, run_checks


async def test_a_closed_broker_port_is_not_ready_and_the_reason_names_it() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"

    async def broker_reachable() -> bool:
        return await broker_answers(bootstrap)

    report = await run_checks([broker_reachable])

    assert not report.ready and report.checks == {"broker_reachable": False}
    assert bootstrap in report.reasons["broker_reachable"]


async def test_a_port_that_accepts_but_never_speaks_kafka_is_not_ready_within_the_deadline() -> None:
    left = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # hold the connection open until the client leaves
        writer.close()
        await writer.wait_closed()
        left.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    bootstrap = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"

    async def broker_reachable() -> bool:
        return await broker_answers(bootstrap, timeout_s=0.5)

    started = time.monotonic()
    async with server:
        report = await run_checks([broker_reachable], timeout_s=2.0)

        await asyncio.wait_for(left.wait(), 5)

    assert time.monotonic() - started < 2.0
    assert not report.ready and "within 0.5s" in report.reasons["broker_reachable"]


async def test_every_check_is_reported_by_name_and_only_failures_carry_a_reason() -> None:
    async def redis_reachable() -> bool:
        raise ConnectionError("Connection refused")

    async def partitions_assigned() -> bool:
        return True

    report = await run_checks([partitions_assigned, redis_reachable])

    assert report.checks == {"partitions_assigned": True, "redis_reachable": False} and not report.ready
    assert report.reasons == {"redis_reachable": "ConnectionError: Connection refused"}
