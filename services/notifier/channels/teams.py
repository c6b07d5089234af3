"""Microsoft Teams: a message with one Adaptive Card (1.4), as a Workflows webhook (or a legacy incoming
webhook) takes it.

Shapes and limits, from Microsoft's documentation:
- https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook :
  the body is ``{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "content": <AdaptiveCard>}]}``, and a message is limited to 28 KB;
- https://learn.microsoft.com/en-us/connectors/teams/ (Workflows "Post card in a chat or channel"): about
  28 KB too, past which the post fails with "request entity too large";
- https://learn.microsoft.com/en-us/adaptive-cards/schema-explorer/text-run : a ``TextRun`` (1.2) is shown
  as written, "Markdown is not supported", with ``weight``, ``highlight`` and a ``selectAction`` link.
Every text from an article goes in a ``TextRun``, never a ``TextBlock`` (whose markdown would let a title
make links), and the card is built smaller until its JSON, measured with every non-ASCII character as a
``\\uXXXX`` escape (the largest way to send it), fits under the size limit.
"""

from __future__ import annotations

import json
from typing import Any

from services.notifier.channels.content import Segment, alert_text, digest_text, excerpt, more_stories
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice
from services.notifier.channels.shortening import shorten

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
# 28 KB documented; the margin covers the envelope a Workflow adds and any difference in counting.
MAX_PAYLOAD_BYTES = 26_000
# Budgets tried in turn until the card fits: (title chars, sentence chars, digest stories).
_BUDGETS = ((500, 1500, 60), (300, 800, 40), (200, 400, 25), (120, 200, 12), (80, 100, 5), (60, 60, 1))


def teams_message(notice: Notice) -> dict[str, Any]:
    """The webhook body for one alert, update, test or digest, under the 28 KB limit."""
    for title_chars, sentence_chars, stories in _BUDGETS:
        if isinstance(notice, DigestNotice):
            card = _digest_card(notice, title_chars, stories)
        else:
            card = _alert_card(notice, title_chars, sentence_chars)
        message = _envelope(card)
        if payload_bytes(message) <= MAX_PAYLOAD_BYTES:
            break
    return message


def payload_bytes(message: dict[str, Any]) -> int:
    """The size of the body sent the largest way (ASCII-only JSON, spaces after separators)."""
    return len(json.dumps(message, ensure_ascii=True).encode())


def _envelope(card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None,
                                                "content": card}]}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]], summary: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": shorten(summary, 300),
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _alert_card(notice: AlertNotice, title_chars: int, sentence_chars: int) -> dict[str, Any]:
    words = alert_text(notice)
    alert = notice.alert
    color = "Accent" if notice.type != "test" else "Warning"
    body = [
        _rich([_run(shorten(words.label, 300), weight="Bolder", color=color)]),
        _rich([_run(shorten(words.title, title_chars), size="Large", weight="Bolder", url=words.url)]),
        _rich(_sentence_runs(words.sentence, sentence_chars), separator=True),
    ]
    if words.footnote:
        body.append(_rich([_run(words.footnote, italic=True, subtle=True)]))
    for name, value in words.facts:
        body.append(_rich([_run(f"{name}: ", weight="Bolder"), _run(shorten(value or "-", title_chars))],
                          spacing="None"))
    # Ids cut to 12 characters: the card's size limit is better spent on the title and the sentence.
    body.append(_rich([_run(f"newsmon · alert {alert.alert_id[:12]} · story {alert.story_id[:12]}",
                            size="Small", subtle=True)]))
    actions = [_open_url("Open article", words.url)] if words.url else []
    return _card(body, actions, words.summary)


def _digest_card(digest: DigestNotice, title_chars: int, most: int) -> dict[str, Any]:
    words = digest_text(digest)
    body = [_rich([_run(words.heading, size="Large", weight="Bolder")]),
            _rich([_run(words.period, subtle=True)], spacing="None")]
    for story in words.stories[:most]:
        body.append(_rich([_run(shorten(story.title, title_chars), weight="Bolder", url=story.url)],
                          separator=True))
        body.append(_rich([_run(shorten(story.details, 400), subtle=True)], spacing="None"))
    if len(words.stories) > most:
        body.append(_rich([_run(more_stories(len(words.stories) - most), italic=True)], separator=True))
    return _card(body, [], f"{words.heading}: " + "; ".join(story.title for story in words.stories[:5]))


def _sentence_runs(segments: list[Segment], budget: int) -> list[dict[str, Any]]:
    if not segments:
        return [_run("(no sentence recorded)", italic=True)]
    return [_run(segment.text, weight="Bolder", highlight=True) if segment.matched else _run(segment.text)
            for segment in excerpt(segments, budget)]


def _rich(inlines: list[dict[str, Any]], *, separator: bool = False, spacing: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": inlines}
    if separator:
        block["separator"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def _run(text: str, *, weight: str | None = None, size: str | None = None, color: str | None = None,
         italic: bool = False, subtle: bool = False, highlight: bool = False, url: str | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": text}
    for key, value in (("weight", weight), ("size", size), ("color", color)):
        if value:
            run[key] = value
    for key, flag in (("italic", italic), ("isSubtle", subtle), ("highlight", highlight)):
        if flag:
            run[key] = True
    if url:
        run["selectAction"] = _open_url(None, url)
    return run


def _open_url(title: str | None, url: str) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.OpenUrl", "url": url}
    if title:
        action["title"] = title
    return action
