"""Message shapes of the chat and email channels, and the SMTP client that sends email.

Each chat format is a pure function ``Notice -> dict`` (the JSON body to POST to the subscription's
webhook URL) that keeps within its service's documented limits by shortening, never by failing;
``CHAT_FORMATS`` maps a subscription's ``format`` to it. Email is built by ``email_message`` and sent
by ``send_email``, whose failures are ``TransientSendError`` or ``PermanentSendError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from services.notifier.channels.discord import discord_message
from services.notifier.channels.email_message import email_message
from services.notifier.channels.errors import ChannelError, PermanentSendError, TransientSendError
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice, NoticeType
from services.notifier.channels.slack import slack_message
from services.notifier.channels.smtp import SmtpSettings, send_email, smtp_settings
from services.notifier.channels.teams import teams_message

CHAT_FORMATS: Mapping[str, Callable[[Notice], dict[str, Any]]] = MappingProxyType({
    "slack": slack_message,
    "teams": teams_message,
    "discord": discord_message,
})

__all__ = [
    "CHAT_FORMATS",
    "AlertNotice",
    "ChannelError",
    "DigestNotice",
    "Notice",
    "NoticeType",
    "PermanentSendError",
    "SmtpSettings",
    "TransientSendError",
    "discord_message",
    "email_message",
    "send_email",
    "slack_message",
    "smtp_settings",
    "teams_message",
]
