"""One attempt at one queued message, in its target's format, all within one deadline.

A target's format is its subscription's (``rendering.py``): standard targets get signed POSTs, chat
targets their channel's JSON, email targets a message through the SMTP server (``NEWSMON_SMTP_*``).
The deadline covers everything (checking the URL, connecting, sending, the receiver's response
headers); past it the attempt is a timeout, to be retried. What an answer means is
``attempt_results.py``; SMTP 4xx answers and outages count as a retry like an HTTP 5xx, SMTP 5xx as
a failure like an HTTP 4xx. Whether and when to try again is the caller's (``delivery.py``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from email.message import EmailMessage

import httpx
from pydantic import ValidationError

from services.notifier.channels.errors import PermanentSendError, TransientSendError
from services.notifier.channels.smtp import SmtpSettings, send_email
from services.notifier.metrics import DELIVERY_SECONDS
from services.notifier.rendering import HttpPayload, RenderError, render
from services.notifier.unsubscribe import one_click_url
from services.notifier.webhooks.attempt_results import AttemptResult, classify_response, describe_attempt_error
from services.notifier.webhooks.queue import Item
from services.notifier.webhooks.signing import signed_headers
from services.notifier.webhooks.subscriptions import Format
from services.notifier.webhooks.url_safety import UnsafeWebhookURL, check_webhook_url
from shared.address_guard import UnsafeAddress

DEFAULT_ATTEMPT_DEADLINE_S = 10.0


@dataclass(frozen=True)
class Destination:
    """How one item is sent: its format and, for the standard format, the secret that signs it."""

    secret: str | None
    format: Format = "standard"


class Sender:
    """Sends one item per call, over ``client`` (whose guard refuses private addresses as it connects) or SMTP."""

    def __init__(self, client: httpx.AsyncClient, *, allow_private: bool,
                 attempt_deadline_s: float = DEFAULT_ATTEMPT_DEADLINE_S, smtp: SmtpSettings | None = None,
                 public_url: str | None = None) -> None:
        self.client = client
        self.allow_private = allow_private
        self.attempt_deadline_s = attempt_deadline_s
        self.smtp = smtp
        self.public_url = public_url

    async def send(self, item: Item, body: bytes, destination: Destination) -> AttemptResult:
        """Render the message in the destination's format, then POST it or mail it."""
        one_click = None
        if destination.format == "email" and self.public_url and item.subscription_id and destination.secret:
            one_click = one_click_url(self.public_url, item.subscription_id, destination.secret)
        try:
            payload = render(destination.format, item.alert_id, body, url=item.url,
                             subscription_id=item.subscription_id, sender=self.smtp.sender if self.smtp else None,
                             one_click=one_click)
        except (RenderError, ValidationError) as error:
            return AttemptResult("failed", error=f"cannot write it as {destination.format}: {error}"[:200])
        if isinstance(payload, HttpPayload):
            return await self.post(item, payload.content, destination.secret if payload.signed else None,
                                   None if payload.signed else payload.headers)
        return await self.mail(payload)

    async def mail(self, message: EmailMessage) -> AttemptResult:
        """Hand an email to the SMTP server within the attempt deadline: 4xx and outages retry, 5xx fail."""
        if self.smtp is None:
            return AttemptResult("failed", error="email needs NEWSMON_SMTP_HOST")
        started = time.monotonic()
        try:
            await send_email(message, self.smtp, timeout_s=self.attempt_deadline_s)
            result = AttemptResult("delivered")
        except TransientSendError as error:
            result = AttemptResult("retry", error=str(error)[:200])
        except PermanentSendError as error:
            result = AttemptResult("failed", error=str(error)[:200])
        result = replace(result, latency_s=time.monotonic() - started)
        DELIVERY_SECONDS.observe(result.latency_s or 0.0)
        return result

    async def post(self, item: Item, body: bytes, secret: str | None,
                   headers: dict[str, str] | None = None) -> AttemptResult:
        """The attempt under its deadline: URL check, POST, and the receiver's status, all within it.
        Without ``headers``, the standard format's (signed with ``secret`` when there is one)."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.attempt_deadline_s):
                result = await self._post_checked(item, body, headers or signed_headers(secret, item.alert_id, body))
        except TimeoutError:
            result = AttemptResult("retry", latency_s=time.monotonic() - started,
                                   error=f"no response within the {self.attempt_deadline_s:g}s attempt deadline")
        if result.latency_s is not None:
            DELIVERY_SECONDS.observe(result.latency_s)
        return result

    async def _post_checked(self, item: Item, body: bytes, headers: dict[str, str]) -> AttemptResult:
        """Check the URL, POST the body, and classify the answer (the response body is never read)."""
        try:
            await check_webhook_url(item.url, self.allow_private)
        except UnsafeWebhookURL as error:
            return AttemptResult("refused", error=str(error))
        except OSError as error:  # DNS failure: often transient
            return AttemptResult("retry", error=describe_attempt_error(error))
        started = time.monotonic()
        try:
            async with self.client.stream(
                "POST", item.url, content=body, headers=headers,
                timeout=self.attempt_deadline_s, follow_redirects=False,
            ) as response:
                result = classify_response(response)
        except UnsafeAddress as error:  # the client's guard, as it connected: the host now resolves inside
            result = AttemptResult("refused", error=str(error))
        except httpx.TransportError as error:  # timeouts, refused connections, resets
            result = AttemptResult("retry", error=describe_attempt_error(error))
        except httpx.InvalidURL as error:
            result = AttemptResult("failed", error=describe_attempt_error(error))
        return replace(result, latency_s=time.monotonic() - started)
