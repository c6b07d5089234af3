"""Slack: the JSON an incoming webhook takes, Block Kit ``blocks`` with a plain ``text`` fallback
(what notifications and old clients show).

Shapes and limits, from Slack's reference:
- https://docs.slack.dev/reference/block-kit/blocks : at most 50 blocks in a message;
- https://docs.slack.dev/reference/block-kit/blocks/header-block : header text is ``plain_text``, 150 at most;
- https://api.slack.com/reference/block-kit/blocks#section : section text 3000 at most, ``fields`` 10 at
  most of 2000 each;
- https://api.slack.com/reference/surfaces/formatting#escaping : in ``mrkdwn``, ``&``, ``<`` and ``>``
  are control characters written ``&amp;``, ``&lt;``, ``&gt;``; a link is ``<url|text>``, bold ``*text*``.
Escaping those three is what keeps a hostile title from making a link or a mention (``<!channel>``); the
other marks (``*``, ``_``, ``~``) can at most change emphasis. Slack also refuses messages whose blocks
hold more than about 13,000 characters in all, below any documented limit
(https://github.com/slackapi/bolt-js/issues/2509), so a digest stops well before that.
"""

from __future__ import annotations

from typing import Any

from services.notifier.channels.content import Segment, alert_text, digest_text, emphasized, excerpt, more_stories
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice
from services.notifier.channels.shortening import largest_fitting, length, one_line, shorten

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FALLBACK_CHARS = 1000
# Longest URL linked; a longer one (never a real article's) is left out rather than crowding the text.
LINK_URL_CHARS = 1500
SENTENCE_CHARS = 1200
DIGEST_TITLE_CHARS = 200
DIGEST_TEXT_CHARS = 10_000


def slack_message(notice: Notice) -> dict[str, Any]:
    """The incoming-webhook body for one alert, update, test or digest, within Slack's limits."""
    if isinstance(notice, DigestNotice):
        return _digest_message(notice)
    return _alert_message(notice)


def escape(text: str) -> str:
    """Text for ``mrkdwn``: Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _alert_message(notice: AlertNotice) -> dict[str, Any]:
    words = alert_text(notice)
    header = ("[test] " if notice.type == "test" else "") + words.title
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": shorten(header, HEADER_CHARS), "emoji": False}},
        _section(_linked_title(f"*{escape(words.label)}*\n", words.title, words.url)),
        _section(_quote(words.sentence, words.footnote)),
        {"type": "section", "fields": [_field(name, value) for name, value in words.facts]},
        _context(words.ids),
    ]
    return {"text": shorten(words.summary, FALLBACK_CHARS, escape), "blocks": blocks}


def _digest_message(digest: DigestNotice) -> dict[str, Any]:
    words = digest_text(digest)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": shorten(words.heading, HEADER_CHARS),
                                    "emoji": False}},
        _context(words.period),
    ]
    room = MAX_BLOCKS - len(blocks) - 1  # one block left for "and N more stories"
    used = 0
    for shown, story in enumerate(words.stories):
        section = _section(_linked_title("", shorten(story.title, DIGEST_TITLE_CHARS), story.url,
                                         f"\n{escape(story.details)}"))
        used += length(section["text"]["text"])
        if shown == room or used > DIGEST_TEXT_CHARS:
            blocks.append(_context(more_stories(len(words.stories) - shown)))
            break
        blocks.append(section)
    text = f"{words.heading}: " + "; ".join(story.title for story in words.stories[:10])
    return {"text": shorten(text, FALLBACK_CHARS, escape), "blocks": blocks}


def _linked_title(before: str, title: str, url: str | None, after: str = "") -> str:
    """``before`` + the title in bold, linked to the article when it has a usable URL, + ``after``."""
    target = _link_target(url) if url else None
    if target is None or len(target) > LINK_URL_CHARS:
        return before + "*" + shorten(title, SECTION_CHARS - length(before + after) - 2, escape) + "*" + after
    room = SECTION_CHARS - length(before + after) - len(target) - 4
    return before + f"*<{target}|" + shorten(title, room, escape) + ">*" + after


def _link_target(url: str) -> str:
    """The URL as a link target: Slack's control characters and ``|`` (which ends the target) encoded."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _quote(segments: list[Segment], footnote: str | None) -> str:
    """The sentence as a quote, matched words in bold, with an optional footnote in italics."""
    if not segments:
        return "_(no sentence recorded)_"
    after = f"\n_{escape(footnote)}_" if footnote else ""

    def render(budget: int) -> str:
        return ">" + "".join(_marked(segment) for segment in excerpt(segments, budget)) + after

    return largest_fitting(render, SECTION_CHARS, SENTENCE_CHARS)


def _marked(segment: Segment) -> str:
    return emphasized(escape(segment.text), "*") if segment.matched else escape(segment.text)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field(name: str, value: str) -> dict[str, str]:
    label = f"*{name}*\n"
    return {"type": "mrkdwn", "text": label + shorten(value or "-", FIELD_CHARS - length(label), escape)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(one_line(text), FIELD_CHARS, escape)}]}
