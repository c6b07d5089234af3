"""Reading a response body with its decompressed size capped: what keeps a hostile server from filling memory.

httpx decodes gzip a network chunk at a time, and one 16 KB chunk of a gzip bomb inflates to
tens of megabytes before a count of the decoded bytes sees it. Here the raw (still encoded) stream
is decoded with zlib asked for at most ``STEP_BYTES`` of output per call, so the decoded body never
exceeds the cap by more than one step, whatever the compression ratio. Only the encodings the
fetcher asks for (``ACCEPT_ENCODING``) are decoded; a server that sends another one is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Iterator

# What the fetcher's requests accept; every other content coding is refused (``bad_encoding``).
ACCEPT_ENCODING = "gzip, deflate"
STEP_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class UnreadableBody(Exception):
    """A body refused while reading; ``kind`` is ``too_large`` or ``bad_encoding``, the message says why."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class _Inflater:
    """One zlib-family content coding, decoded ``STEP_BYTES`` at most per step.

    gzip may hold several members one after the other; deflate is meant to be zlib-wrapped, but
    some servers send it raw, which the first bytes tell.
    """

    def __init__(self, coding: str) -> None:
        self.gzip = coding in ("gzip", "x-gzip")
        self.wbits = zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS
        self.inflater = zlib.decompressobj(self.wbits)
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``, none longer than ``STEP_BYTES``."""
        while True:
            out = self._step(data)
            if out:
                yield out
            if self.inflater.eof:
                data = self.inflater.unused_data
                if not (self.gzip and data.startswith(_GZIP_MAGIC)):
                    return  # trailing bytes after the stream are ignored, as httpx does
                self.inflater = zlib.decompressobj(self.wbits)  # the next gzip member
                continue
            data = self.inflater.unconsumed_tail
            if not data and len(out) < STEP_BYTES:  # all input used, and zlib held nothing back
                return

    def _step(self, data: bytes) -> bytes:
        try:
            out = self.inflater.decompress(data, STEP_BYTES)
        except zlib.error:
            if self.gzip or self.started:
                raise
            self.wbits = -zlib.MAX_WBITS  # raw deflate without the zlib header
            self.inflater = zlib.decompressobj(self.wbits)
            out = self.inflater.decompress(data, STEP_BYTES)
        self.started = True
        return out


def _decoders(content_encoding: str) -> list[_Inflater]:
    """The decoders to apply, last coding first; raises UnreadableBody for a coding not asked for."""
    codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
    unknown = sorted({coding for coding in codings if coding not in ("identity", "gzip", "x-gzip", "deflate")})
    if unknown:
        raise UnreadableBody("bad_encoding", f"content encoding {', '.join(unknown)} was not asked for")
    return [_Inflater(coding) for coding in reversed(codings) if coding != "identity"]


def _decode(pieces: Iterator[bytes], decoders: list[_Inflater]) -> Iterator[bytes]:
    """``pieces`` through every decoder in turn, lazily: no stage ever holds more than a step."""
    for decoder in decoders:
        pieces = _through(decoder, pieces)
    return pieces


def _through(decoder: _Inflater, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


async def read_bounded(raw: AsyncIterable[bytes], content_encoding: str, max_bytes: int) -> bytes:
    """The decoded body of ``raw`` (a response's ``aiter_raw()``), at most ``max_bytes`` long.

    Raises UnreadableBody: ``too_large`` as soon as the decoded body, or the encoded bytes received,
    pass ``max_bytes`` (the rest is never read); ``bad_encoding`` for a coding not asked for, or
    data that does not decode.
    """
    decoders = _decoders(content_encoding)
    body = bytearray()
    received = 0
    try:
        async for chunk in raw:
            received += len(chunk)
            if received > max_bytes:  # a stream of empty deflate blocks is endless yet decodes to nothing
                raise UnreadableBody("too_large", f"more than {max_bytes} bytes received")
            for piece in _decode(iter((chunk,)), decoders):
                body += piece
                if len(body) > max_bytes:
                    raise UnreadableBody("too_large", f"more than {max_bytes} bytes once decoded")
    except zlib.error as error:
        raise UnreadableBody("bad_encoding", f"the {content_encoding} body does not decode: {error}") from error
    return bytes(body)
