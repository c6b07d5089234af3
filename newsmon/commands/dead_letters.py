"""``newsmon dead-letters list|replay``: what the stages could not handle, and sending it again once fixed.

Both read the ``dead-letter.<service>`` topics with a group-less consumer (no service's offsets
move), the newest ``--last`` letters of each partition. ``list`` shows each letter's service,
reason, key, time, size and whether it can be replayed (which ones can, and why the others cannot:
``dead_letter_replay``); it marks the replayed ones when Redis answers. ``replay`` sends the
originals back to their stage's input topic, each once, in their order on each dead-letter
partition (so one key's messages keep theirs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timezone
from typing import Annotated, Any, Optional

import typer
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from newsmon.commands.dead_letter_replay import (
    STAGE_INPUTS,
    RedisReplayLedger,
    ReplayResult,
    StoredDeadLetter,
    UnreadableDeadLetter,
    replay,
)
from newsmon.commands.deliveries import redis_unreachable
from shared import topics
from shared.kafka_clients import TopicReadError, producer, read_last
from shared.readiness import NotReady, broker_answers
from shared.redis_client import connect
from shared.settings import Settings, get_settings

# A broker under load may take a few seconds to answer; one that is down refuses at once.
BROKER_TIMEOUT_S = 10.0
REASON_SHOWN_CHARS = 160

ServiceOption = Annotated[Optional[str], typer.Option(
    "--service", help=f"Only this stage's dead letters: {', '.join(STAGE_INPUTS)} (default: all).")]
ReasonOption = Annotated[Optional[str], typer.Option(
    "--reason", help="Only this kind (e.g. processing_error) or reasons containing this text.")]
KeyOption = Annotated[Optional[str], typer.Option("--key", help="Only the dead letters of this key (article id).")]
LastOption = Annotated[int, typer.Option("--last", min=1, help="Read the newest N dead letters of each partition.")]


class DeadLetterReadError(Exception):
    """The dead letters cannot be read; the message names the problem in one line."""


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def services_to_read(service: str | None) -> list[str]:
    """The stages asked for; an unknown one is a ``DeadLetterReadError`` naming the ones there are."""
    if service is None:
        return list(STAGE_INPUTS)
    if service not in STAGE_INPUTS:
        raise DeadLetterReadError(f"no dead letters for service {service!r}; "
                                  f"the stages that dead-letter are {', '.join(STAGE_INPUTS)}")
    return [service]


async def read_dead_letters(settings: Settings, services: list[str], last: int,
                            on_unreadable: Callable[[str], None]) -> list[StoredDeadLetter]:
    """The newest ``last`` dead letters of each partition of the services' topics; raises ``DeadLetterReadError``."""
    try:
        await broker_answers(settings.bootstrap, timeout_s=BROKER_TIMEOUT_S)
    except NotReady as error:
        raise DeadLetterReadError(str(error)) from None
    letters = []
    for service in services:
        topic = topics.dead_letter_topic(service)
        try:
            records = await read_last(settings, topic, last)
        except TopicReadError as error:
            raise DeadLetterReadError(str(error)) from None
        for record in records:
            try:
                letters.append(StoredDeadLetter.parse(topic, record.partition, record.offset, record.value))
            except UnreadableDeadLetter as error:
                on_unreadable(str(error))
    return letters


def _selected(settings: Settings, service: str | None, reason: str | None, key: str | None,
              last: int) -> list[StoredDeadLetter]:
    """The dead letters the options select, or exit with a one-line error."""
    # The command reports a broker it cannot reach in one line; aiokafka's own log lines would repeat it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    def skipped(why: str) -> None:
        typer.secho(f"skipped {why}", fg=typer.colors.YELLOW, err=True)

    try:
        letters = asyncio.run(read_dead_letters(settings, services_to_read(service), last, skipped))
    except DeadLetterReadError as error:
        raise _fail(str(error)) from None
    return [stored for stored in letters if stored.matches(reason, key)]


async def _replayed_ids(settings: Settings, letters: list[StoredDeadLetter]) -> set[str]:
    redis = connect(settings)
    try:
        return await RedisReplayLedger(redis).replayed([stored.letter_id for stored in letters])
    finally:
        await redis.aclose()


def listing(stored: StoredDeadLetter, replayed: bool | None) -> dict[str, Any]:
    """What ``list --json`` prints for one letter; ``replayed`` is None when Redis could not say."""
    why_not = stored.why_not_replayable()
    return {
        "service": stored.service, "dead_letter": stored.position, "reason": stored.letter.reason,
        "kind": stored.kind, "key": stored.letter.key, "failed_at": stored.failed_at.isoformat(),
        "payload_bytes": stored.payload_bytes, "payload_truncated": stored.letter.payload_truncated,
        "replayable": why_not is None, "not_replayable_because": why_not, "replayed": replayed,
        "input_topic": stored.letter.topic,
    }


def listing_line(stored: StoredDeadLetter, replayed: bool | None) -> str:
    """What ``list`` prints for one letter: time, service, size, status, key, reason (and why not replayable)."""
    why_not = stored.why_not_replayable()
    status = "replayed" if replayed else "replayable" if why_not is None else "not replayable"
    reason = stored.letter.reason
    if len(reason) > REASON_SHOWN_CHARS:
        reason = reason[:REASON_SHOWN_CHARS] + "..."
    failed_at = stored.failed_at.astimezone(timezone.utc)
    line = (f"{failed_at:%Y-%m-%d %H:%M:%SZ}  {stored.service:<7}  {stored.payload_bytes:>9,} B  "
            f"{status:<14}  key {stored.letter.key or '-'}  {reason}")
    return line + (f"\n    not replayable: {why_not}" if why_not is not None else "")


def dead_letters_list_command(
    service: ServiceOption = None, reason: ReasonOption = None, key: KeyOption = None, last: LastOption = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per dead letter.")] = False,
) -> None:
    """Show the dead letters, oldest first: service, reason, key, time, size, and whether it can be replayed."""
    settings = get_settings()
    letters = sorted(_selected(settings, service, reason, key, last), key=lambda s: (s.failed_at, s.position))
    replayed: set[str] | None
    try:
        replayed = asyncio.run(_replayed_ids(settings, letters))
    except (RedisError, OSError):
        replayed = None
        typer.secho("warning: Redis does not answer, so replayed dead letters are not marked",
                    fg=typer.colors.YELLOW, err=True)
    for stored in letters:
        was_replayed = None if replayed is None else stored.letter_id in replayed
        typer.echo(json.dumps(listing(stored, was_replayed)) if as_json else listing_line(stored, was_replayed))
    if not as_json:
        replayable = sum(stored.why_not_replayable() is None for stored in letters)
        done = len([stored for stored in letters if replayed and stored.letter_id in replayed])
        typer.echo(f"{len(letters)} dead letters: {replayable - done} replayable, {done} replayed, "
                   f"{len(letters) - replayable} not replayable")


def result_line(result: ReplayResult) -> str:
    """What ``replay`` prints for one letter."""
    stored = result.stored
    where = f"{stored.position}  key {stored.letter.key or '-'}"
    if result.outcome == "replayed":
        return f"replayed  {where} -> {stored.letter.topic}"
    if result.outcome == "already_replayed":
        return f"skipped   {where}: already replayed"
    return f"skipped   {where}: not replayable: {result.detail}"


async def replay_dead_letters(settings: Settings, letters: list[StoredDeadLetter],
                              on_result: Callable[[ReplayResult], None]) -> list[ReplayResult]:
    """Send the replayable letters' originals once each (see ``dead_letter_replay.replay``)."""
    redis = connect(settings)
    client = producer(settings)
    try:
        await client.start()

        async def send(topic: str, key: bytes | None, value: bytes) -> None:
            await client.send_and_wait(topic, value, key=key)

        return await replay(letters, RedisReplayLedger(redis), send, on_result)
    finally:
        await client.stop()
        await redis.aclose()


def dead_letters_replay_command(
    service: ServiceOption = None, reason: ReasonOption = None, key: KeyOption = None, last: LastOption = 1000,
) -> None:
    """Send the originals of the selected dead letters back to their stage, each once; say why for the others."""
    settings = get_settings()
    letters = sorted(_selected(settings, service, reason, key, last), key=lambda s: (s.topic, s.partition, s.offset))
    if not letters:
        typer.echo("no dead letters match")
        return
    try:
        results = asyncio.run(replay_dead_letters(settings, letters, lambda result: typer.echo(result_line(result))))
    except (RedisError, OSError) as error:
        raise redis_unreachable(settings, error) from None
    except KafkaError as error:
        raise _fail(f"cannot send to {settings.bootstrap}: {type(error).__name__}: {error}") from None
    count = {outcome: sum(result.outcome == outcome for result in results)
             for outcome in ("replayed", "already_replayed", "not_replayable")}
    typer.echo(f"replayed {count['replayed']} dead letters; {count['already_replayed']} already replayed, "
               f"{count['not_replayable']} not replayable")
