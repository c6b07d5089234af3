"""Local stand-ins for Slack, Teams and Discord webhooks: they check a payload as the real service documents
it, answer 400 (413 for Teams' size limit) with the reason on a violation, and record what they accept.

The checks are written from each service's documentation, independently of newsmon's renderers (the
product code is not imported here), so a renderer that drifts from a documented limit is caught:
- Slack: https://docs.slack.dev/reference/block-kit/blocks (50 blocks; header ``plain_text`` 150; section
  text 3000 and 10 fields of 2000; context 10 elements), https://api.slack.com/reference/surfaces/formatting
  (``&``, ``<``, ``>`` escaped in ``mrkdwn``); blocks holding more than about 13,000 characters are refused
  in practice (``msg_blocks_too_long``).
- Teams: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
  (``type: message``, an Adaptive Card attachment, 28 KB at most).
- Discord: https://discord.com/developers/docs/resources/webhook#execute-webhook and the embed limits of
  https://discord.com/developers/docs/resources/message#embed-object-embed-limits.
Lengths are counted in UTF-16 code units, the stricter of the ways these services count.

``throttle_once(s)`` makes the next request get 429 with ``Retry-After: s``, as a rate-limited service does.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from newsmon.embedded import free_port
from tests.local_http import serve_in_thread, stop_serving

ChatFormat = Literal["slack", "teams", "discord"]
TEAMS_MAX_BYTES = 28 * 1024
_SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text", "markdown"}
_CARD_ELEMENTS = {"TextBlock", "RichTextBlock", "FactSet", "Container", "ColumnSet", "Image", "ActionSet"}
# In Slack mrkdwn, '<' opens a link or a mention and '&' an entity: anything else is unescaped input.
_SLACK_UNESCAPED = re.compile(r"<(?!https?://|mailto:)|&(?!amp;|lt;|gt;)")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Violation(Exception):
    """What the service would refuse, and why."""


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise Violation(reason)


def _string(value: Any, where: str, most: int, *, empty: bool = False) -> str:
    _check(isinstance(value, str), f"{where}: not a string")
    _check(empty or bool(value), f"{where}: empty")
    _check(utf16_length(value) <= most, f"{where}: {utf16_length(value)} characters, more than {most}")
    return str(value)


def check_slack(body: Any) -> None:
    """Raise Violation unless ``body`` is an incoming-webhook message Slack accepts."""
    _check(isinstance(body, dict), "invalid_payload: not a JSON object")
    _check(bool(body.get("text")) or bool(body.get("blocks")), "no_text: neither text nor blocks")
    if "text" in body:
        _mrkdwn(_string(body["text"], "text", 4000), "text")
    blocks = body.get("blocks", [])
    _check(isinstance(blocks, list) and len(blocks) <= 50, "invalid_blocks: more than 50 blocks")
    total = 0
    for index, block in enumerate(blocks):
        total += _slack_block(block, f"blocks[{index}]")
    _check(total <= 13_000, f"msg_blocks_too_long: {total} characters in blocks")


def _slack_block(block: Any, where: str) -> int:
    _check(isinstance(block, dict) and block.get("type") in _SLACK_BLOCK_TYPES, f"invalid_blocks: {where}: type")
    if "block_id" in block:
        _string(block["block_id"], f"{where}.block_id", 255)
    kind = block["type"]
    if kind == "header":
        text = block.get("text")
        _check(isinstance(text, dict) and text.get("type") == "plain_text", f"invalid_blocks: {where}: plain_text")
        return utf16_length(_string(text["text"], f"invalid_blocks: {where}.text", 150))
    if kind == "section":
        _check("text" in block or "fields" in block, f"invalid_blocks: {where}: neither text nor fields")
        total = _text_object(block["text"], f"{where}.text", 3000) if "text" in block else 0
        fields = block.get("fields", [])
        _check(isinstance(fields, list) and len(fields) <= 10, f"invalid_blocks: {where}: more than 10 fields")
        return total + sum(_text_object(item, f"{where}.fields[{i}]", 2000) for i, item in enumerate(fields))
    if kind == "context":
        elements = block.get("elements")
        _check(isinstance(elements, list) and 1 <= len(elements) <= 10, f"invalid_blocks: {where}: elements")
        return sum(_text_object(item, f"{where}.elements[{i}]", 3000) for i, item in enumerate(elements))
    return 0


def _text_object(text: Any, where: str, most: int) -> int:
    _check(isinstance(text, dict) and text.get("type") in ("plain_text", "mrkdwn"), f"invalid_blocks: {where}: type")
    value = _string(text.get("text"), f"invalid_blocks: {where}", most)
    if text["type"] == "mrkdwn":
        _mrkdwn(value, where)
    return utf16_length(value)


def _mrkdwn(value: str, where: str) -> None:
    bad = _SLACK_UNESCAPED.search(value)
    _check(bad is None, f"{where}: unescaped control character at {bad.start() if bad else 0}: {value[:80]!r}")


def check_teams(body: Any, size: int) -> None:
    """Raise Violation unless ``body`` (``size`` bytes on the wire) is a message with an Adaptive Card."""
    _check(size <= TEAMS_MAX_BYTES, f"request entity too large: {size} bytes, more than {TEAMS_MAX_BYTES}")
    _check(isinstance(body, dict) and body.get("type") == "message", "type must be 'message'")
    attachments = body.get("attachments")
    _check(isinstance(attachments, list) and len(attachments) >= 1, "attachments: none")
    for index, attachment in enumerate(attachments):
        where = f"attachments[{index}]"
        _check(attachment.get("contentType") == "application/vnd.microsoft.card.adaptive", f"{where}.contentType")
        card = attachment.get("content")
        _check(isinstance(card, dict) and card.get("type") == "AdaptiveCard", f"{where}.content: not an AdaptiveCard")
        _check(card.get("version") in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"), f"{where}: card version")
        _check(isinstance(card.get("body"), list) and card["body"], f"{where}: empty card body")
        for position, element in enumerate(card["body"]):
            _card_element(element, f"{where}.body[{position}]")
        for position, action in enumerate(card.get("actions", [])):
            _open_url(action, f"{where}.actions[{position}]")


def _card_element(element: Any, where: str) -> None:
    _check(isinstance(element, dict) and element.get("type") in _CARD_ELEMENTS, f"{where}: unknown element")
    if element["type"] == "TextBlock":
        _string(element.get("text"), f"{where}.text", 100_000)
    if element["type"] == "RichTextBlock":
        inlines = element.get("inlines")
        _check(isinstance(inlines, list) and inlines, f"{where}: no inlines")
        for index, run in enumerate(inlines):
            _check(isinstance(run, dict) and run.get("type") == "TextRun", f"{where}.inlines[{index}]: not a TextRun")
            _string(run.get("text"), f"{where}.inlines[{index}].text", 100_000)
            if "selectAction" in run:
                _open_url(run["selectAction"], f"{where}.inlines[{index}].selectAction")


def _open_url(action: Any, where: str) -> None:
    _check(isinstance(action, dict) and action.get("type") == "Action.OpenUrl", f"{where}: not Action.OpenUrl")
    _check(str(action.get("url", "")).startswith(("https://", "http://")), f"{where}: url")


def check_discord(body: Any) -> None:
    """Raise Violation unless ``body`` is an execute-webhook body Discord accepts."""
    _check(isinstance(body, dict), "Invalid Form Body: not a JSON object")
    content = body.get("content", "")
    _string(content, "content", 2000, empty=True)
    embeds = body.get("embeds", [])
    _check(isinstance(embeds, list) and len(embeds) <= 10, "embeds: more than 10")
    _check(bool(content) or bool(embeds), "Cannot send an empty message")
    total = 0
    for index, embed in enumerate(embeds):
        total += _embed(embed, f"embeds[{index}]")
    _check(total <= 6000, f"embeds: {total} characters in all, more than 6000")


def _embed(embed: Any, where: str) -> int:
    _check(isinstance(embed, dict), f"{where}: not an object")
    counted = 0
    for key, most in (("title", 256), ("description", 4096)):
        if key in embed:
            counted += utf16_length(_string(embed[key], f"{where}.{key}", most))
    fields = embed.get("fields", [])
    _check(isinstance(fields, list) and len(fields) <= 25, f"{where}.fields: more than 25")
    for index, item in enumerate(fields):
        counted += utf16_length(_string(item.get("name"), f"{where}.fields[{index}].name", 256))
        counted += utf16_length(_string(item.get("value"), f"{where}.fields[{index}].value", 1024))
    if "footer" in embed:
        counted += utf16_length(_string(embed["footer"].get("text"), f"{where}.footer.text", 2048))
    if "author" in embed:
        counted += utf16_length(_string(embed["author"].get("name"), f"{where}.author.name", 256))
    if "url" in embed:
        _check(str(embed["url"]).startswith(("https://", "http://")), f"{where}.url: not http(s)")
    if "timestamp" in embed:
        try:
            datetime.fromisoformat(embed["timestamp"])
        except (TypeError, ValueError):
            raise Violation(f"{where}.timestamp: not ISO 8601") from None
    if "color" in embed:
        _check(isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF, f"{where}.color")
    return counted


@dataclass
class Refused:
    """A payload the receiver refused, with its status and reason."""

    status: int
    reason: str
    body: bytes


@dataclass
class ChatReceiver:
    """A webhook of one chat format on 127.0.0.1: checks, records, and answers as that service does
    (Slack 200 ``ok``, Teams 202, Discord 204)."""

    format: ChatFormat
    port: int = field(default_factory=free_port)
    accepted: list[Any] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    throttled: int = 0
    _retry_after_s: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def throttle_once(self, retry_after_s: float = 1.0) -> None:
        """Answer the next request 429 with ``Retry-After``."""
        with self._lock:
            self._retry_after_s = retry_after_s

    def start(self) -> ChatReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, headers, answer = receiver._answer(raw, self.headers.get("content-type", ""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = serve_in_thread(Handler, self.port)
        return self

    def stop(self) -> None:
        stop_serving(self._server)
        self._server = None

    def _answer(self, raw: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            retry_after, self._retry_after_s = self._retry_after_s, None
            if retry_after is not None:
                self.throttled += 1
                limited = json.dumps({"message": "You are being rate limited.", "retry_after": retry_after})
                return 429, {"retry-after": f"{retry_after:g}", "content-type": "application/json"}, limited.encode()
        try:
            _check(content_type.split(";")[0].strip() == "application/json", "content-type is not application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                raise Violation("invalid_payload: not JSON") from None
            if self.format == "slack":
                check_slack(body)
            elif self.format == "teams":
                check_teams(body, len(raw))
            else:
                check_discord(body)
        except Violation as violation:
            status = 413 if str(violation).startswith("request entity too large") else 400
            with self._lock:
                self.refused.append(Refused(status, str(violation), raw))
            return status, {"content-type": "text/plain"}, str(violation).encode()
        with self._lock:
            self.accepted.append(body)
        if self.format == "slack":
            return 200, {"content-type": "text/plain"}, b"ok"
        return (202 if self.format == "teams" else 204), {}, b""
