"""The silence API, served on the notifier's port beside the subscription API (same token, same 503s).

::

    POST   /api/silences          {matchers: {rule?, story_id?, subscription?}, duration_s | ends_at, comment?}
                                                         -> 201 {id, matchers, starts_at, ends_at, comment}
    GET    /api/silences                                 -> 200 {silences: [...]} (the active ones)
    DELETE /api/silences/{id}                            -> 204 (ended now), 404 when none is in force

A request without an end, with both ends, without matchers or with an end in the past is refused
with 422 naming the field. ``SilenceAPI`` holds the behaviour as plain async methods;
``register_silence_routes`` only adapts them to faust views.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import faust
from pydantic import ValidationError

from services.notifier.silence_store import SilenceStore
from services.notifier.silences import NewSilence, Silence, SilenceRefused, silence_from_request
from shared.http_api import ApiResponse, Endpoint, error_response, read_then
from shared.logs import log_event
from shared.schemas import describe_validation_error, utcnow

logger = logging.getLogger(__name__)


def silence_view(silence: Silence) -> dict[str, Any]:
    """A silence as the API shows it (matchers not given are left out)."""
    return {"id": silence.id, "matchers": silence.matchers.model_dump(exclude_none=True),
            "starts_at": silence.starts_at.isoformat(), "ends_at": silence.ends_at.isoformat(),
            "comment": silence.comment}


class SilenceAPI:
    """Create, list and end silences; ``changed`` runs after each change (the active-silences gauge)."""

    def __init__(self, store: SilenceStore, changed: Callable[[], Awaitable[object]],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.changed = changed
        self.clock = clock

    async def create(self, body: bytes) -> ApiResponse:
        try:
            silence = silence_from_request(NewSilence.model_validate_json(body or b"{}"), self.clock())
        except ValidationError as error:
            return error_response(422, describe_validation_error(error))
        except SilenceRefused as error:
            return error_response(422, str(error))
        await self.store.add(silence, self.clock())
        await self.changed()
        log_event(logger, "silence.created", silence_id=silence.id, ends_at=silence.ends_at.isoformat(),
                  matchers=silence_view(silence)["matchers"])
        return ApiResponse(201, silence_view(silence))

    async def list(self) -> ApiResponse:
        return ApiResponse(200, {"silences": [silence_view(silence) for silence in await self.store.active(
            self.clock())]})

    async def end(self, silence_id: str) -> ApiResponse:
        if not await self.store.end(silence_id):
            return error_response(404, f"no active silence {silence_id}")
        await self.changed()
        log_event(logger, "silence.ended", silence_id=silence_id)
        return ApiResponse(204)


def register_silence_routes(app: faust.App, api: SilenceAPI, endpoint: Endpoint) -> None:
    """Serve the silence API on the notifier's web server, behind ``endpoint``'s token and readiness checks."""
    endpoint.route(app, "/api/silences", get=lambda _: api.list(),
                   post=lambda request: read_then(request, api.create))
    endpoint.route(app, "/api/silences/{silence_id}", delete=lambda _, silence_id: api.end(silence_id))
