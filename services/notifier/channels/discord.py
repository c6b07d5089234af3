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

from services.notifier.channels.content import (
    Segment,
    article_url,
    digest_heading,
    digest_period,
    digest_stories,
    excerpt,
    fired_sentence,
    first_seen,
    more_sentences,
    more_stories,
    notice_label,
    outlets_text,
    when,
)
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice
from services.notifier.channels.shortening import largest_fitting, length, one_line, shorten

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
    alert = notice.alert
    title = one_line(alert.title) or "(untitled)"
    rule = one_line(alert.rule_name)
    label = notice_label(notice)
    embed: dict[str, Any] = {"title": shorten(title, TITLE_CHARS, escape)}
    url = article_url(alert)
    if url:
        embed["url"] = url
    embed["fields"] = [_field("Rule", rule), _field("Source", one_line(alert.source)),
                       _field("Outlets so far", outlets_text(notice.outlets)),
                       _field("First seen", when(first_seen(notice)))]
    embed["footer"] = {"text": shorten(f"newsmon · alert {alert.alert_id} · story {alert.story_id}", SHORT_CHARS)}
    # The description takes what the 6000 in all leaves after the other parts.
    room = min(DESCRIPTION_CHARS, EMBED_TOTAL_CHARS - embed_chars(embed))
    embed["description"] = _quote(f"**{escape(label)}**\n", fired_sentence(alert), more_sentences(alert), room)
    embed["timestamp"] = _iso(alert.fired_at)
    embed["color"] = COLORS[notice.type]
    return embed, f"{label} ({rule}): {title}"


def _digest_embed(digest: DigestNotice) -> tuple[dict[str, Any], str]:
    stories = digest_stories(digest)
    heading = digest_heading(len(stories))
    footer = shorten(digest_period(digest), FOOTER_CHARS)
    # The description takes what the 6000 in all leaves after the title and footer.
    room = min(DESCRIPTION_CHARS, EMBED_TOTAL_CHARS - length(heading) - length(footer))
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
    embed = {"title": shorten(heading, TITLE_CHARS), "description": "\n\n".join(lines), "footer": {"text": footer},
             "timestamp": _iso(digest.period_end), "color": COLORS["digest"]}
    return embed, heading


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
    text = escape(segment.text)
    core = text.strip()
    if not segment.matched or not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return f"{lead}**{core}**{trail}"


def _field(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": shorten(value or "-", SHORT_CHARS, escape), "inline": True}


def _link_target(url: str) -> str:
    """The URL inside ``(...)``: the characters that would end it early encoded."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
