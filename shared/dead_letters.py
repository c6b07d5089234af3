"""Dead letters that always fit in one Kafka message.

A message that could not be handled is kept with its reason; when the letter would be larger than
the broker takes (a huge article, a flood of bytes), its payload is cut to fit and the letter says
so, keeping the original's size and sha256 so it can still be identified and compared. Writing a
dead letter must never fail the stage, so nothing here depends on what the bad message holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic_core import to_json

from shared.message_size import fits, record_size
from shared.schemas import DeadLetter

# Longest key and reason kept as they are; longer ones are cut (a key this long is itself malformed).
MAX_KEY_BYTES = 1024
MAX_REASON_CHARS = 2000
# A record's varint length prefixes grow by a few bytes as its value grows from empty to full size.
LENGTH_PREFIX_SLACK = 32


@dataclass(frozen=True)
class DeadLetterRecord:
    """A dead letter ready to send: its Kafka key and its JSON value, within the size limit together."""

    key: bytes | None
    value: bytes
    letter: DeadLetter


def build_dead_letter(service: str, topic: str, reason: str, key: bytes | None, payload: bytes | None,
                      max_bytes: int) -> DeadLetterRecord:
    """The dead letter of ``payload`` (read from ``topic``), cut to fit ``max_bytes`` if it must be.

    The record keeps the original key when it is at most ``MAX_KEY_BYTES``; a longer one is replaced
    by ``sha256:<hex>`` of it (and the letter's ``key`` field keeps its beginning).
    """
    original = payload or b""
    record_key = key if key is None or len(key) <= MAX_KEY_BYTES else b"sha256:" + _sha256(key).encode()
    letter = DeadLetter(
        service=service,
        topic=topic,
        reason=_clip(reason, MAX_REASON_CHARS),
        key=None if key is None else key[:MAX_KEY_BYTES].decode("utf-8", "replace"),
        payload=original.decode("utf-8", "replace"),
        payload_bytes=len(original),
        payload_sha256=_sha256(original),
    )
    value = _encode(letter)
    if fits(record_key, value, max_bytes):
        return DeadLetterRecord(record_key, value, letter)
    return _truncated(letter, record_key, max_bytes)


def _truncated(letter: DeadLetter, record_key: bytes | None, max_bytes: int) -> DeadLetterRecord:
    """The letter with the longest beginning of its payload that fits.

    A character takes one to six bytes once escaped in JSON, so the length is found by bisection
    over the payload's own encoding (the one the letter's JSON uses), leaving room for the record's
    length prefixes to grow.
    """
    empty = letter.model_copy(update={"payload": "", "payload_truncated": True})
    budget = max_bytes - record_size(record_key, _encode(empty)) - LENGTH_PREFIX_SLACK
    text, low, high = letter.payload, 0, len(letter.payload)
    while low < high:
        middle = (low + high + 1) // 2
        if len(to_json(text[:middle])) - 2 <= budget:
            low = middle
        else:
            high = middle - 1
    cut = empty.model_copy(update={"payload": text[:low]})
    return DeadLetterRecord(record_key, _encode(cut), cut)


def _encode(letter: DeadLetter) -> bytes:
    return letter.model_dump_json().encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
