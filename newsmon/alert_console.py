"""The alerts a person watches in a terminal: ``newsmon up`` prints each as it fires, ``newsmon alerts``
prints the topic."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import typer

from shared import topics
from shared.schemas import Alert
from shared.settings import Settings

if TYPE_CHECKING:
    from newsmon.stack import Stack


async def watch_alerts(stack: Stack, tail: bool) -> None:
    """Print alerts as they fire until the user stops the stack (the stack's supervisor restarts what dies).

    A restarted embedded broker holds new topics whose offsets start again at 0, so the follower
    then starts over from their beginning; an alert id already printed is not printed twice.
    """
    from aiokafka.errors import KafkaError

    if not tail:
        await asyncio.Event().wait()
    printed: set[str] = set()
    while True:
        broker_start = stack.broker_starts
        follower = asyncio.create_task(print_alerts(stack.settings, follow=True, printed=printed))
        while stack.broker_starts == broker_start and not follower.done():
            await asyncio.sleep(1)
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, KafkaError, OSError):
            await follower
        await asyncio.sleep(1)  # a follower that failed is started again, not in a tight loop


async def print_alerts(settings: Settings, follow: bool, printed: set[str] | None = None) -> None:
    """Print the alerts topic from its beginning; with ``printed``, each alert id once."""
    from shared.kafka_clients import FOLLOW_WAKE_S, consumer  # aiokafka: imported by the commands that read a topic

    reader = consumer(settings, topics.ALERTS, follow=follow)
    try:
        await reader.start()
        while True:
            batches = await reader.getmany(timeout_ms=round((FOLLOW_WAKE_S if follow else 1.0) * 1000))
            for records in batches.values():
                for record in records:
                    alert = Alert.model_validate_json(record.value)
                    if printed is not None:
                        if alert.alert_id in printed:
                            continue
                        printed.add(alert.alert_id)
                    typer.echo(format_alert(alert))
            if not batches and not follow:
                return
    finally:
        await reader.stop()


def format_alert(alert: Alert) -> str:
    """One console line per alert: rule id, title, story."""
    return f"ALERT {alert.rule_id:<16} {alert.title[:100]}  [story {alert.story_id[:12]}]"
