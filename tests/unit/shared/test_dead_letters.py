"""A dead letter is stored before the stream moves on, like any output of a stage."""

from __future__ import annotations

import asyncio
import json

import faust

from shared.schemas import RawArticle
from shared.stream_app import Stage


class HeldTopic:
    """A dead-letter topic whose broker acknowledges only when the test says so."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.called = asyncio.Event()
        self.ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(self, key: bytes | None, value: bytes) -> asyncio.Future[None]:
        self.sent.append((key, value))
        self.called.set()
        return self.ack

    def get_topic_name(self) -> str:
        return "dead-letter.dedupe"


async def test_an_unreadable_message_is_done_only_once_its_dead_letter_is_acknowledged() -> None:
    app = faust.App("newsmon-test-dead-letters", broker="kafka://127.0.0.1:9", autodiscover=False)
    stage = Stage(app, "dedupe", "articles.raw", RawArticle)
    stage.dead_letters = topic = HeldTopic()  # type: ignore[assignment]

    parsing = asyncio.create_task(stage.parse(b"article-1", b"not json"))
    await asyncio.wait_for(topic.called.wait(), 5)
    await asyncio.sleep(0.05)
    assert not parsing.done(), "the offset would move on before the broker stored the dead letter"

    topic.ack.set_result(None)
    assert await asyncio.wait_for(parsing, 5) is None
    [(key, value)] = topic.sent
    assert key == b"article-1" and json.loads(value)["reason"].startswith("invalid_json")
