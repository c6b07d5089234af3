"""Watch rules through the alerter's API (its own port), beside the rule file, for every alerter instance at once.

::

    GET    /api/rules          -> 200 every rule: id, name, source (file or api), enabled
    GET    /api/rules/{id}     -> 200 the rule as written
    PUT    /api/rules/{id}     {rule}  -> 201 created / 200 replaced; 422 names the field
    DELETE /api/rules/{id}     -> 204

The body of a PUT is one rule in the rule-file format (docs/rules.md), as JSON. Rules of the
rule file are read-only here (409): the file is their source of truth. API rules have no
``webhooks``: their alerts go to subscriptions, whose URLs are checked. A change is active on
this instance when the answer arrives, and on the others within ``NEWSMON_RULES_RELOAD_S``.
Subscriptions are the notifier's API (``services/notifier/api.py``); both take the same token.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import faust

from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.rule_engine.rules import Rule, RuleFileError, validate_rule
from shared.http_api import ApiResponse, Endpoint, error_response, read_then
from shared.logs import log_event

logger = logging.getLogger(__name__)


def _summary(rule: Rule, source: str) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "source": source, "enabled": rule.enabled}


class RuleAPI:
    """What the rule endpoints do, as plain async methods."""

    def __init__(self, rulebook: RuleBook, store: RuleStore) -> None:
        self.rulebook = rulebook
        self.store = store

    async def list(self) -> ApiResponse:
        await self.rulebook.refresh()
        file_ids = self.rulebook.file_rule_ids()
        listed = [_summary(rule, "file") for rule in self.rulebook.file_rules]
        listed += [_summary(rule, "api") for rule in self.rulebook.api_rules if rule.id not in file_ids]
        return ApiResponse(200, {"rules": listed, "active": self.rulebook.rule_ids()})

    async def get(self, rule_id: str) -> ApiResponse:
        await self.rulebook.refresh()
        for source, rules in (("file", self.rulebook.file_rules), ("api", self.rulebook.api_rules)):
            for rule in rules:
                if rule.id == rule_id:
                    return ApiResponse(200, {"source": source, "rule": rule.model_dump(mode="json", exclude_none=True)})
        return error_response(404, f"no rule {rule_id}")

    async def put(self, rule_id: str, body: bytes) -> ApiResponse:
        try:
            document = json.loads(body or b"null")
        except ValueError as error:
            return error_response(422, f"not JSON: {error}")
        if not isinstance(document, dict):
            return error_response(422, "the body must be one rule, as a JSON object")
        if document.get("id", rule_id) != rule_id:
            return error_response(422, f"field id: {document['id']!r} differs from the id in the URL, {rule_id!r}")
        if "webhooks" in document:
            return error_response(422, "field webhooks: rules added through the API deliver to subscriptions; "
                                       "subscribe a URL to this rule instead")
        if rule_id in self.rulebook.file_rule_ids():
            return error_response(409, f"rule {rule_id} comes from the rule file; edit it there")
        document = {**document, "id": rule_id}
        try:
            rule = validate_rule(document, "api")
        except RuleFileError as error:
            return error_response(422, str(error))
        created = not await self.store.exists(rule_id)
        await self.store.put(rule, document)
        await self.rulebook.refresh()
        log_event(logger, "rules.api_rule_saved", rule_id=rule_id, created=created, enabled=rule.enabled)
        return ApiResponse(201 if created else 200, {"source": "api", "rule": rule.model_dump(mode="json",
                                                                                            exclude_none=True)})

    async def delete(self, rule_id: str) -> ApiResponse:
        if rule_id in self.rulebook.file_rule_ids():
            return error_response(409, f"rule {rule_id} comes from the rule file; remove it there")
        if not await self.store.delete(rule_id):
            return error_response(404, f"no rule {rule_id} added through the API")
        await self.rulebook.refresh()
        log_event(logger, "rules.api_rule_deleted", rule_id=rule_id)
        return ApiResponse(204)


def register_rule_routes(app: faust.App, rules: RuleAPI, endpoint: Endpoint) -> None:
    """Serve the rule API on the alerter's web server, behind ``endpoint``'s token and readiness checks."""
    endpoint.route(app, "/api/rules", get=lambda _: rules.list())
    endpoint.route(app, "/api/rules/{rule_id}", get=lambda _, rule_id: rules.get(rule_id),
                   put=lambda request, rule_id: read_then(request, lambda body: rules.put(rule_id, body)),
                   delete=lambda _, rule_id: rules.delete(rule_id))
