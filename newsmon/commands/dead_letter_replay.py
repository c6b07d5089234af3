"""Which dead letters can be sent again, and sending each of them once.

A dead letter is worth replaying when what failed was the stage, not the message: a processing
error (a bug, a corrupt Redis key, a dependency the failure policy does not retry) or a size limit,
once the cause is fixed. It is not when the message itself is malformed (``empty``,
``invalid_json``, ``schema``, ``empty_after_cleanup``): the same bytes would fail the same way, and
the fix is a corrected message from its producer. A truncated dead letter (``payload_truncated``)
no longer holds the original, so it cannot be replayed either; each such letter says why.

A replay sends the original key and payload to the stage's input topic, and only there: a letter
naming any other topic is refused, so a forged dead letter cannot write to ``alerts``. The
``ReplayLedger`` remembers what was replayed, by dead-letter topic, partition, offset and a digest
of the letter (an offset of a re-created topic is a new letter), so replaying twice sends once.
The stages' effects are idempotent per id, so even a letter sent twice (a crash between sending
and recording) changes nothing downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import ValidationError
from redis.asyncio import Redis

from shared import topics
from shared.schemas import DeadLetter, describe_validation_error

# The stages that dead-letter, and the topics each consumes: a replayed message goes back to its own.
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "dedupe": (topics.ARTICLES_RAW,),
    "ner": (topics.ARTICLES_UNIQUE,),
    "alerter": (topics.ARTICLES_ENRICHED,),
    "notifier": (topics.ALERTS, topics.ARTICLES_DUPLICATES),
}
# Dead-letter kinds that mean the message itself is malformed: replaying the same bytes cannot help.
MALFORMED_KINDS = frozenset({"empty", "invalid_json", "schema", "empty_after_cleanup"})
LEDGER_PREFIX = "newsmon:dead-letters:replayed"
# Longer than Kafka's default retention (7 days), so a letter still on its topic is never sent twice.
REPLAYED_TTL_S = 30 * 24 * 3600
# How long a replay in progress holds its letter; a CLI that died mid-send frees it after this.
SENDING_TTL_S = 120

ReplayOutcome = Literal["replayed", "already_replayed", "not_replayable"]
SendOriginal = Callable[[str, bytes | None, bytes], Awaitable[None]]


class UnreadableDeadLetter(ValueError):
    """A message on a dead-letter topic that is not a ``DeadLetter``; the message says where and why."""


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter as read from its topic: where it is stored, and what it says."""

    topic: str
    partition: int
    offset: int
    letter: DeadLetter
    digest: str

    @classmethod
    def parse(cls, topic: str, partition: int, offset: int, value: bytes) -> StoredDeadLetter:
        """The dead letter in one record of ``topic``; raises ``UnreadableDeadLetter``."""
        try:
            letter = DeadLetter.model_validate_json(value)
        except ValidationError as error:
            raise UnreadableDeadLetter(f"{topic}[{partition}]@{offset}: not a dead letter: "
                                       f"{describe_validation_error(error)[:200]}") from None
        return cls(topic, partition, offset, letter, hashlib.sha256(value).hexdigest())

    @property
    def position(self) -> str:
        """Where it is stored, as ``dead-letter.alerter[2]@17``."""
        return f"{self.topic}[{self.partition}]@{self.offset}"

    @property
    def letter_id(self) -> str:
        """What the ledger remembers it by: its position and digest (offsets restart with a re-created topic)."""
        return f"{self.topic}:{self.partition}:{self.offset}:{self.digest[:16]}"

    @property
    def service(self) -> str:
        """The stage that dead-lettered it, from the topic it is on (not from what it says)."""
        return self.topic.removeprefix("dead-letter.")

    @property
    def kind(self) -> str:
        """The bounded part of the reason, e.g. ``processing_error``."""
        return self.letter.reason.split(":", 1)[0].strip()

    @property
    def failed_at(self) -> datetime:
        return self.letter.failed_at

    @property
    def payload_bytes(self) -> int:
        """Size of the original payload: as recorded, or of the payload held."""
        return self.letter.payload_bytes if self.letter.payload_bytes is not None else len(self.original)

    @property
    def original(self) -> bytes:
        """The payload to send again."""
        return self.letter.payload.encode("utf-8")

    @property
    def original_key(self) -> bytes | None:
        return self.letter.key.encode("utf-8") if self.letter.key is not None else None

    def matches(self, reason: str | None, key: str | None) -> bool:
        """Selected by ``--reason`` (its kind, or any text of the reason) and ``--key`` (exactly)."""
        if key is not None and self.letter.key != key:
            return False
        return reason is None or reason == self.kind or reason.lower() in self.letter.reason.lower()

    def why_not_replayable(self) -> str | None:
        """None when it can be replayed, else why not, in words for the operator."""
        letter = self.letter
        if letter.payload_truncated:
            kept = len(self.original)
            return (f"payload truncated: only the first {kept} of {self.payload_bytes} bytes were kept, "
                    "the original is lost")
        if self.kind in MALFORMED_KINDS:
            return f"the message itself is malformed ({self.kind}); its producer must send a corrected one"
        expected = STAGE_INPUTS.get(self.service, ())
        if letter.topic not in expected:
            return f"its topic {letter.topic!r} is not an input of {self.service} ({', '.join(expected)})"
        if letter.payload_sha256 is not None and hashlib.sha256(self.original).hexdigest() != letter.payload_sha256:
            return "the payload kept differs from the original (sha256 mismatch)"
        return None


class ReplayLedger(Protocol):
    """What was replayed already (``RedisReplayLedger``; ``MemoryReplayLedger`` in tests)."""

    async def claim(self, letter_id: str) -> bool:
        """True when this caller may send the letter now: not replayed, and no other replay is sending it."""

    async def confirm(self, letter_id: str) -> None:
        """Record that the broker holds the replayed message."""

    async def release(self, letter_id: str) -> None:
        """Give a claim back after a failed send, so a later replay sends the letter."""

    async def replayed(self, letter_ids: list[str]) -> set[str]:
        """Those of ``letter_ids`` that were replayed."""


@dataclass(frozen=True)
class ReplayResult:
    """What happened to one dead letter; ``detail`` says why when it was not replayable."""

    stored: StoredDeadLetter
    outcome: ReplayOutcome
    detail: str = ""


async def replay(letters: Iterable[StoredDeadLetter], ledger: ReplayLedger, send: SendOriginal,
                 on_result: Callable[[ReplayResult], None]) -> list[ReplayResult]:
    """Send each replayable letter's original once, in the order given; report each to ``on_result``.

    A send that fails gives the claim back and raises, so what was not sent can be replayed later;
    the results reported before it stand.
    """
    results = []
    for stored in letters:
        why_not = stored.why_not_replayable()
        if why_not is not None:
            result = ReplayResult(stored, "not_replayable", why_not)
        elif not await ledger.claim(stored.letter_id):
            result = ReplayResult(stored, "already_replayed")
        else:
            try:
                await send(stored.letter.topic, stored.original_key, stored.original)
            except BaseException:
                await ledger.release(stored.letter_id)
                raise
            await ledger.confirm(stored.letter_id)
            result = ReplayResult(stored, "replayed")
        on_result(result)
        results.append(result)
    return results


class RedisReplayLedger:
    """The ``ReplayLedger`` in Redis, one key per letter: ``sending`` while a replay sends it, then ``replayed``."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def claim(self, letter_id: str) -> bool:
        return bool(await self.redis.set(f"{LEDGER_PREFIX}:{letter_id}", b"sending", nx=True, ex=SENDING_TTL_S))

    async def confirm(self, letter_id: str) -> None:
        await self.redis.set(f"{LEDGER_PREFIX}:{letter_id}", b"replayed", ex=REPLAYED_TTL_S)

    async def release(self, letter_id: str) -> None:
        await self.redis.delete(f"{LEDGER_PREFIX}:{letter_id}")

    async def replayed(self, letter_ids: list[str]) -> set[str]:
        if not letter_ids:
            return set()
        states = await self.redis.mget([f"{LEDGER_PREFIX}:{letter_id}" for letter_id in letter_ids])
        return {letter_id for letter_id, state in zip(letter_ids, states, strict=True) if state == b"replayed"}


class MemoryReplayLedger:
    """An in-process ``ReplayLedger`` with the same answers as the Redis one (without expiry)."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    async def claim(self, letter_id: str) -> bool:
        if letter_id in self.states:
            return False
        self.states[letter_id] = "sending"
        return True

    async def confirm(self, letter_id: str) -> None:
        self.states[letter_id] = "replayed"

    async def release(self, letter_id: str) -> None:
        self.states.pop(letter_id, None)

    async def replayed(self, letter_ids: list[str]) -> set[str]:
        return {letter_id for letter_id in letter_ids if self.states.get(letter_id) == "replayed"}
