"""What one queued message looks like for one target's format: pure functions, no I/O.

The queue keeps one body per message (``notice_bodies``: the standard format of an alert, or a
digest's notice); each attempt renders it for its target as it is sent:

- ``standard``: the alert body as stored, signed (Standard Webhooks); a digest as
  ``digests.standard_digest_body``; a test event as stored;
- ``slack``, ``teams``, ``discord``: the channel's JSON (``channels.CHAT_FORMATS``), unsigned, since
  the secret is the URL itself;
- ``email``: a MIME message (``channels.email_message``) to the ``mailto:`` address.

Rendering the same body twice gives the same payload (ids and content; an email's ``Date`` aside), so
a retried or redelivered message is the same message for the receiver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import quote, unquote, urlsplit

from services.notifier.channels import CHAT_FORMATS, email_message
from services.notifier.channels.notice import DigestNotice
from services.notifier.digests import standard_digest_body
from services.notifier.notice_bodies import DIGEST_TYPE, notice_from_body
from services.notifier.webhooks.subscriptions import Format

JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class HttpPayload:
    """A JSON POST; ``signed`` when the standard format's signature headers go with it."""

    content: bytes
    signed: bool
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))


Payload = HttpPayload | EmailMessage


class RenderError(ValueError):
    """A queued message that cannot be written in the target's format (the text says why)."""


def mailto_address(url: str) -> str:
    """The address of a ``mailto:`` URL; raises ``RenderError`` for anything else."""
    parts = urlsplit(url.strip())
    address = unquote(parts.path).strip()
    if parts.scheme.lower() != "mailto" or "@" not in address or "," in address or parts.query:
        raise RenderError("an email subscription's url must be mailto:one-address@example.org")
    return address


def unsubscribe_link(sender: str, subscription_id: str) -> str:
    """Where a reader asks to be unsubscribed: a mail to the sender naming the subscription."""
    return f"mailto:{sender}?subject={quote(f'unsubscribe {subscription_id}')}"


def render(fmt: Format, message_id: str, body: bytes, *, url: str, subscription_id: str | None,
           sender: str | None, one_click: str | None = None) -> Payload:
    """The payload of one queued message for one target; raises ``RenderError``. An email names
    ``one_click`` (``unsubscribe.one_click_url``) in ``List-Unsubscribe`` when given, else ``unsubscribe_link``."""
    if fmt == "standard":
        return HttpPayload(_standard(message_id, body), signed=True)
    try:
        notice = notice_from_body(body)
    except (ValueError, KeyError) as error:
        raise RenderError(f"not an alert or digest ({error}); only the standard format can send it") from None
    if fmt == "email":
        if sender is None:
            raise RenderError("email needs NEWSMON_SMTP_HOST and NEWSMON_SMTP_FROM")
        return email_message(notice, sender=sender, recipient=mailto_address(url),
                             unsubscribe=one_click or unsubscribe_link(sender, subscription_id or "settings"))
    return HttpPayload(json.dumps(CHAT_FORMATS[fmt](notice), separators=(",", ":")).encode(), signed=False)


def _standard(message_id: str, body: bytes) -> bytes:
    try:
        is_digest = json.loads(body).get("type") == DIGEST_TYPE
    except (ValueError, AttributeError):
        is_digest = False
    if not is_digest:  # alerts and test events are stored as they are sent
        return body
    notice = notice_from_body(body)
    if not isinstance(notice, DigestNotice):
        raise RenderError("a digest body that does not read as a digest")
    return standard_digest_body(notice, message_id).encode()
