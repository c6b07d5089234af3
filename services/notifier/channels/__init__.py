"""Message shapes of the chat and email channels, and the SMTP client that sends email.

Each chat format is a pure function ``Notice -> dict`` (the JSON body to POST to the subscription's
webhook URL); ``CHAT_FORMATS`` maps a subscription's ``format`` to it. Email is built as an
``email.message.EmailMessage`` and sent by ``send_email``.
"""

from __future__ import annotations

from services.notifier.channels.errors import ChannelError, PermanentSendError, TransientSendError
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice, NoticeType

__all__ = [
    "AlertNotice",
    "ChannelError",
    "DigestNotice",
    "Notice",
    "NoticeType",
    "PermanentSendError",
    "TransientSendError",
]
