"""One-click unsubscribe from an email (RFC 8058): a signed link per subscription, served by the notifier.

With ``NEWSMON_PUBLIC_URL`` set (the address at which mail readers reach the notifier's port, usually
through a reverse proxy that needs to expose only ``/unsubscribe/``), every email's ``List-Unsubscribe``
is ``<PUBLIC_URL/unsubscribe/ID?token=...>``, with ``List-Unsubscribe-Post`` when it is https, so a
mail client's own "Unsubscribe" button deletes the subscription with one POST and no API token. Unset,
the header is a ``mailto:`` to the sender naming the subscription, for a person to act on.

The token is an HMAC-SHA256 of the subscription id under the subscription's own secret: there is no
key to configure or rotate, a token opens one subscription only, and deleting the subscription voids
it. A GET (a link scanner, or a reader following the link in the message) only shows a page with a
button; only a POST unsubscribes, as RFC 8058 asks, so a scanner cannot unsubscribe anyone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import faust
from faust.web import View

from services.notifier.rendering import RenderError, mailto_address
from services.notifier.webhooks.subscriptions import Subscription
from services.notifier.webhooks.url_safety import redact_url
from shared.http_api import ApiResponse, error_response, unless_unavailable
from shared.logs import log_event
from shared.readiness import ReadinessCheck

logger = logging.getLogger(__name__)
# Signed with the token, so an HMAC of the id made for any other purpose is never a valid token.
_TOKEN_CONTEXT = b"newsmon one-click unsubscribe:"


def unsubscribe_token(subscription_id: str, secret: str) -> str:
    """The token of one subscription's unsubscribe link (URL-safe base64, 43 characters)."""
    digest = hmac.new(secret.encode(), _TOKEN_CONTEXT + subscription_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def one_click_url(public_url: str, subscription_id: str, secret: str) -> str:
    """``PUBLIC_URL/unsubscribe/ID?token=...``: what an email's ``List-Unsubscribe`` names."""
    return (f"{public_url.rstrip('/')}/unsubscribe/{quote(subscription_id, safe='')}"
            f"?token={unsubscribe_token(subscription_id, secret)}")


class UnsubscribeAPI:
    """Check a link (GET) and act on it (POST); ``get`` and ``delete`` are the subscription store's."""

    def __init__(self, get: Callable[[str], Awaitable[Subscription | None]],
                 delete: Callable[[str], Awaitable[bool]]) -> None:
        self.get = get
        self.delete = delete

    async def check(self, subscription_id: str, token: str) -> ApiResponse:
        """200 with what the link would unsubscribe, or why it cannot (404 gone, 403 not this link)."""
        subscription, refusal = await self._verified(subscription_id, token)
        if subscription is None:
            return refusal
        return ApiResponse(200, {"message": f"Stop newsmon alerts to {_recipient(subscription)}?", "confirm": True})

    async def unsubscribe(self, subscription_id: str, token: str) -> ApiResponse:
        """Delete the subscription the link names; a second POST finds it gone (404), nothing more."""
        subscription, refusal = await self._verified(subscription_id, token)
        if subscription is None:
            return refusal
        await self.delete(subscription_id)
        log_event(logger, "subscription.unsubscribed", subscription_id=subscription_id)
        return ApiResponse(200, {"message": f"Unsubscribed: {_recipient(subscription)} gets no more newsmon alerts."})

    async def _verified(self, subscription_id: str, token: str) -> tuple[Subscription | None, ApiResponse]:
        subscription = await self.get(subscription_id)
        if subscription is None:
            return None, error_response(404, "No such subscription: it may be unsubscribed already.")
        if not hmac.compare_digest(token.encode(), unsubscribe_token(subscription_id, subscription.secret).encode()):
            return None, error_response(403, "This unsubscribe link is not valid.")
        return subscription, ApiResponse(200)


def _recipient(subscription: Subscription) -> str:
    """The address, shown in full: only its own link, which went to that address, gets this far."""
    try:
        return mailto_address(subscription.url)
    except RenderError:
        return redact_url(subscription.url)


def unsubscribe_page(response: ApiResponse) -> str:
    """The HTML a reader sees: the message, and on a valid link's GET a button that POSTs to the same URL."""
    body = response.body or {}
    text = html.escape(str(body.get("message") or body.get("error") or ""))
    button = ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
              '<button type="submit">Unsubscribe</button></form>') if body.get("confirm") else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>newsmon</title></head>'
            f"<body><p>{text}</p>{button}</body></html>\n")


def register_unsubscribe_routes(app: faust.App, api: UnsubscribeAPI, dependencies_ready: ReadinessCheck) -> None:
    """Serve ``/unsubscribe/{id}`` without the API token (the link's own token stands for it); 503 while
    Redis is away."""

    async def answer(view: View, request: Any, handle: Callable[[str], Awaitable[ApiResponse]]) -> Any:
        response = await unless_unavailable(dependencies_ready, lambda: handle(request.query.get("token", "")))
        return view.html(unsubscribe_page(response), status=response.status, headers=response.headers)

    @app.page("/unsubscribe/{subscription_id}")
    class Unsubscribe(View):
        async def get(self, request: Any, subscription_id: str) -> Any:
            return await answer(self, request, lambda token: api.check(subscription_id, token))

        async def post(self, request: Any, subscription_id: str) -> Any:
            return await answer(self, request, lambda token: api.unsubscribe(subscription_id, token))
