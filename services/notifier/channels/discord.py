"""Discord: the JSON an "execute webhook" call takes, a short ``content`` line and one embed.

Shapes and limits, from Discord's developer documentation:
- https://discord.com/developers/docs/resources/webhook#execute-webhook : ``content`` (2000 at most),
  ``embeds`` (10 at most), ``allowed_mentions``;
- https://discord.com/developers/docs/resources/message#embed-object-embed-limits : title 256, description
  4096, 25 fields of name 256 / value 1024, footer text 2048, author name 256, and 6000 characters in all
  across the message's embeds; ``timestamp`` is ISO 8601, ``color`` an integer.
- https://discord.com/developers/docs/resources/message#allowed-mentions-object : ``{"parse": []}`` lets
  no ``@everyone``, role or user mention in a title ping anyone.
Markdown in a title (``**``, ``[text](url)``, ``<@id>``) is escaped with backslashes, so a title shows as
written and makes no link.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from services.notifier.channels.content import Segment, alert_text, digest_text, emphasized, excerpt, more_stories
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice
from services.notifier.channels.shortening import largest_fitting, length, shorten

CONTENT_CHARS = 2000
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
FOOTER_CHARS = 2048
# Field values (1024 allowed) and the footer (2048) get less than their own limits, so the sentence
# keeps most of the 6000.
SHORT_CHARS = 300
EMBED_TOTAL_CHARS = 6000
SENTENCE_CHARS = 1500
DIGEST_TITLE_CHARS = 200
COLORS = {"alert.fired": 0xE8590C, "alert.updated": 0x1C7ED6, "test": 0x868E96, "digest": 0x2F9E44}
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()<#])")


def discord_message(notice: Notice) -> dict[str, Any]:
    """The execute-webhook body for one alert, update, test or digest, within Discord's limits."""
    if isinstance(notice, DigestNotice):
        embed, content = _digest_embed(notice)
    else:
        embed, content = _alert_embed(notice)
    return {"content": shorten(content, CONTENT_CHARS, escape), "embeds": [embed], "allowed_mentions": {"parse": []}}


def escape(text: str) -> str:
    """Text shown as written: every markdown, mention and link character behind a backslash."""
    return _MARKDOWN.sub(r"\\\1", text)


def _alert_embed(notice: AlertNotice) -> tuple[dict[str, Any], str]:
    words = alert_text(notice)
    embed: dict[str, Any] = {"title": shorten(words.title, TITLE_CHARS, escape)}
    if words.url:
        embed["url"] = words.url
    embed["fields"] = [_field(name, value) for name, value in words.facts]
    embed["footer"] = {"text": shorten(words.ids, SHORT_CHARS)}
    # The description takes what the 6000 in all leaves after the other parts.
    room = min(DESCRIPTION_CHARS, EMBED_TOTAL_CHARS - embed_chars(embed))
    embed["description"] = _quote(f"**{escape(words.label)}**\n", words.sentence, words.footnote, room)
    embed["timestamp"] = _iso(notice.alert.fired_at)
    embed["color"] = COLORS[notice.type]
    return embed, words.summary


def _digest_embed(digest: DigestNotice) -> tuple[dict[str, Any], str]:
    words = digest_text(digest)
    stories = words.stories
    footer = shorten(words.period, FOOTER_CHARS)
    # The description takes what the 6000 in all leaves after the title and footer.
    room = min(DESCRIPTION_CHARS, EMBED_TOTAL_CHARS - length(words.heading) - length(footer))
    lines: list[str] = []
    used = 0
    for shown, story in enumerate(stories):
        title = shorten(story.title, DIGEST_TITLE_CHARS, escape)
        line = (f"**[{title}]({_link_target(story.url)})**" if story.url else f"**{title}**")
        line += f"\n{shorten(story.details, SHORT_CHARS, escape)}"
        rest = f"\n\n{more_stories(len(stories) - shown - 1)}" if shown + 1 < len(stories) else ""
        if used + length(line) + 2 + length(rest) > room:
            lines.append(more_stories(len(stories) - shown))
            break
        lines.append(line)
        used += length(line) + 2
    embed = {"title": shorten(words.heading, TITLE_CHARS), "description": "\n\n".join(lines),
             "footer": {"text": footer}, "timestamp": _iso(digest.period_end), "color": COLORS["digest"]}
    return embed, words.heading


def embed_chars(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward an embed's 6000: title, description, fields, footer, author."""
    parts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", ""),
             embed.get("author", {}).get("name", "")]
    parts += [part for field in embed.get("fields", []) for part in (field["name"], field["value"])]
    return sum(length(part) for part in parts)


def _quote(before: str, segments: list[Segment], footnote: str | None, limit: int) -> str:
    if not segments:
        return before + "*(no sentence recorded)*"
    after = f"\n*{escape(footnote)}*" if footnote else ""

    def render(budget: int) -> str:
        return before + "> " + "".join(_marked(segment) for segment in excerpt(segments, budget)) + after

    return largest_fitting(render, limit, SENTENCE_CHARS)


def _marked(segment: Segment) -> str:
    return emphasized(escape(segment.text), "**") if segment.matched else escape(segment.text)


def _field(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": shorten(value or "-", SHORT_CHARS, escape), "inline": True}


def _link_target(url: str) -> str:
    """The URL inside ``(...)``: the characters that would end it early encoded."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
