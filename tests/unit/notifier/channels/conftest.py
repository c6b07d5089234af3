"""Alerts as the alerter publishes them (matches as offsets into the article text), built from sentences
written for these tests, and the local receivers each channel test posts to."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from services.notifier.channels import AlertNotice, DigestNotice
from shared.schemas import Alert, MatchedSentence
from tests.channel_receivers import ChatFormat, ChatReceiver

FIRED_AT = datetime(2026, 3, 9, 7, 42, tzinfo=timezone.utc)
# Where the sentence starts in its (imagined) article: offsets in matches count from the article's start.
SENTENCE_START = 412


def make_alert(
    title: str = "Aid convoy reaches the border crossing after a two-day wait",
    sentence: str = ("Trucks carrying flour and medicine crossed at Kerem Shalom on Tuesday, "
                     "the agency said, after talks between Egypt and Israel."),
    matched: tuple[str, ...] = ("Kerem Shalom", "Egypt"),
    *,
    rule_name: str = "Border crossings",
    story: str = "story-1",
    url: str | None = "https://news.example.org/world/aid-convoy-border?ref=rss&lang=en",
    source: str = "news.example.org",
    fired_at: datetime = FIRED_AT,
    extra_sentences: int = 0,
) -> Alert:
    """An alert whose first sentence marks each of ``matched`` (every occurrence) as the alerter would."""
    matches = [(SENTENCE_START + found.start(), SENTENCE_START + found.end())
               for word in matched for found in re.finditer(re.escape(word), sentence)]
    sentences = [MatchedSentence(text=sentence, start=SENTENCE_START, end=SENTENCE_START + len(sentence),
                                 matches=sorted(matches))]
    for index in range(extra_sentences):
        start = SENTENCE_START + len(sentence) + 1 + index * 80
        sentences.append(MatchedSentence(text="A later sentence names the crossing again.", start=start,
                                         end=start + 42, matches=[(start + 24, start + 32)]))
    return Alert(
        alert_id=f"{rule_name}-{story}".encode().hex()[:64].ljust(64, "0"), rule_id=rule_name.lower(),
        rule_name=rule_name, article_id=f"article-{story}", story_id=story, url=url, title=title, source=source,
        sentences=sentences, fired_at=fired_at,
    )


def make_digest(count: int, *, title: str = "Story number {n} about the harbour reopening") -> DigestNotice:
    """A digest of ``count`` stories, the newest first, each from a different outlet count."""
    items = tuple(
        AlertNotice("alert.fired", make_alert(title=title.format(n=n), story=f"story-{n}",
                                              fired_at=FIRED_AT - timedelta(minutes=n)), outlets=1 + n % 7)
        for n in range(count)
    )
    return DigestNotice("sub-digest", FIRED_AT - timedelta(hours=1), FIRED_AT, items)


@pytest.fixture(scope="session")
def receivers() -> Iterator[dict[ChatFormat, ChatReceiver]]:
    """One running receiver per chat format."""
    started: dict[ChatFormat, ChatReceiver] = {name: ChatReceiver(name).start()
                                               for name in ("slack", "teams", "discord")}
    yield started
    for receiver in started.values():
        receiver.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
