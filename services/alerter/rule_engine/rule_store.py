"""Watch rules added through the API, kept in Redis so every alerter instance runs the same ones.

Each rule is stored as the JSON the user sent (validated first); a version counter moves on
every change, so instances notice with one small read per reload tick. Rules from the rule file
stay in the file: the API neither overrides nor deletes them. A change is entered in the rule
directory (``shared.rule_directory``) in the same transaction, so the notifier knows the rule at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.alerter.rule_engine.rules import Rule
from shared.logs import log_event
from shared.redis_client import text
from shared.rule_directory import RuleDirectory, RuleEntry

logger = logging.getLogger(__name__)
RULES_KEY = "newsmon:rules:api"
VERSION_KEY = "newsmon:rules:api:version"


class RuleStore:
    """API rules by id, with a version that changes whenever one is added, replaced or deleted."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.directory = RuleDirectory(redis)

    async def version(self) -> int:
        return int(await self.redis.get(VERSION_KEY) or 0)

    async def rules(self) -> list[Rule]:
        """Every stored rule, by id; one that no longer validates (after an upgrade) is logged and left out."""
        found = []
        for rule_id, document in sorted((await self.redis.hgetall(RULES_KEY)).items()):
            try:
                found.append(Rule.model_validate_json(document))
            except ValidationError as error:
                log_event(logger, "rules.api_rule_invalid", logging.ERROR, rule_id=text(rule_id), error=str(error))
        return found

    async def exists(self, rule_id: str) -> bool:
        return bool(await self.redis.hexists(RULES_KEY, rule_id))

    async def put(self, rule: Rule, document: dict[str, Any]) -> None:
        """Store ``document`` (the rule as the user wrote it) under ``rule.id``."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(RULES_KEY, rule.id, json.dumps(document))
            pipe.incr(VERSION_KEY)
            if rule.enabled:
                self.directory.set_in(pipe, RuleEntry(rule.id, tuple(rule.webhooks), rule.priority))
            else:
                self.directory.remove_in(pipe, rule.id)
            await pipe.execute()

    async def delete(self, rule_id: str) -> bool:
        """False when there was no such rule."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(RULES_KEY, rule_id)
            pipe.incr(VERSION_KEY)
            self.directory.remove_in(pipe, rule_id)
            removed, *_ = await pipe.execute()
        return bool(removed)

