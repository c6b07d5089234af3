"""What every newsmon HTTP API shares: one bearer token, plain responses, 503 while Redis is away.

The alerter's rule API and the notifier's subscription and silence APIs serve JSON on their service's
faust web server. Each keeps its behaviour as plain async methods returning an ``ApiResponse``
(testable without a server); ``Endpoint.route`` serves them on a path, each request after
``TokenCheck`` and ``unless_unavailable`` have had their say, so every API refuses and fails the same way.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.web import View

from shared.failure_policy import classify, describe_error
from shared.logs import log_event
from shared.readiness import NotReady, ReadinessCheck
from shared.settings import Settings

logger = logging.getLogger(__name__)
OUTAGE_RETRY_AFTER_S = 5

Handle = Callable[[], Awaitable["ApiResponse"]]
# Answers one method of a route: called with the request and the path's parameters as keywords.
RouteHandler = Callable[..., Awaitable["ApiResponse"]]


@dataclass(frozen=True)
class ApiResponse:
    """A status, an optional JSON body and headers: what an endpoint answers."""

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> ApiResponse:
    """An error as every newsmon API writes it: ``{"error": message}``."""
    return ApiResponse(status, {"error": message}, headers or {})


@dataclass(frozen=True)
class TokenCheck:
    """``Authorization: Bearer <NEWSMON_API_TOKEN>``; without the setting every request gets 503."""

    token: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenCheck:
        """The check of ``NEWSMON_API_TOKEN``, which every newsmon API shares."""
        return cls(settings.api_token.get_secret_value() if settings.api_token else None)

    def refusal(self, authorization: str | None) -> ApiResponse | None:
        """Why a request may not proceed (503 disabled, 401 bad token), or None when it may."""
        if not self.token:
            return error_response(503, "API disabled: set NEWSMON_API_TOKEN")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return error_response(401, "missing or wrong bearer token", {"WWW-Authenticate": 'Bearer realm="newsmon"'})
        return None


async def unless_unavailable(dependencies_ready: ReadinessCheck, handle: Handle) -> ApiResponse:
    """``handle()``, or 503 with the reason while a dependency (Redis) is unavailable.

    The dependency is asked first, so a request is not half done when an outage is already under
    way; one that meets an outage midway is answered 503 too (any step it did is idempotent to repeat).
    """
    try:
        if not await dependencies_ready():
            return _unavailable("a dependency is not ready")
    except NotReady as error:
        return _unavailable(str(error))
    try:
        return await handle()
    except Exception as error:
        if classify(error) != "transient":
            raise
        log_event(logger, "api.dependency_unavailable", logging.WARNING, error=describe_error(error))
        return _unavailable(describe_error(error))


def _unavailable(reason: str) -> ApiResponse:
    return error_response(503, f"temporarily unavailable, try again shortly: {reason}",
                          {"Retry-After": str(OUTAGE_RETRY_AFTER_S)})


@dataclass(frozen=True)
class Endpoint:
    """The checks in front of every route of one API: its token and its dependencies' readiness."""

    tokens: TokenCheck
    dependencies_ready: ReadinessCheck

    async def serve(self, view: View, request: Any, handle: Handle) -> Any:
        """Answer ``request`` with ``handle()`` once the token and the dependencies allow it."""
        response = self.tokens.refusal(request.headers.get("Authorization")) or await unless_unavailable(
            self.dependencies_ready, handle)
        if response.body is None:
            return view.bytes(b"", status=response.status, headers=response.headers)
        return view.json(response.body, status=response.status, headers=response.headers)

    def route(self, app: faust.App, path: str, **handlers: RouteHandler) -> None:
        """Serve ``path`` on ``app``'s web server, each keyword (``get``, ``post``, ``put``, ``delete``) the
        handler of that method, behind ``serve``'s checks; other methods get faust's 405."""

        def answer(handler: RouteHandler) -> Callable[..., Awaitable[Any]]:
            async def method(view: View, request: Any, **params: str) -> Any:
                return await self.serve(view, request, lambda: handler(request, **params))
            return method

        name = "Api" + "".join(part.strip("{}").title().replace("_", "") for part in path.split("/"))
        app.page(path)(type(name, (View,), {method: answer(handler) for method, handler in handlers.items()}))


async def read_then(request: Any, handle: Callable[[bytes], Awaitable[ApiResponse]]) -> ApiResponse:
    """``handle(body)`` with the request's body."""
    return await handle(await request.read())
