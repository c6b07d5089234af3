"""Everything the alerter needs, built once from the settings when the service starts.

Nothing here runs at import: ``app.create_service`` calls ``bootstrap``, so importing the app
module opens no connection and reads no settings, and tests build the same parts around fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.alerter.alert_log import RedisAlertLog
from services.alerter.republishing import RecentAlerts
from services.alerter.rule_api import RuleAPI
from services.alerter.rule_engine.aliases import configured_aliases
from services.alerter.rule_engine.events.sentence_parse import configured_parser
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from shared.http_api import TokenCheck
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.rule_directory import RuleDirectory
from shared.settings import Settings


@dataclass(frozen=True)
class AlerterDependencies:
    """The alerter's long-lived parts (their connections close with the process)."""

    redis: Redis
    rulebook: RuleBook
    alert_log: RedisAlertLog
    recent_alerts: RecentAlerts
    rule_api: RuleAPI
    api_tokens: TokenCheck

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)


def bootstrap(settings: Settings) -> AlerterDependencies:
    """Build the alerter's parts; a bad rule file raises ``RuleFileError`` naming file, rule and field,
    and a bad alias file ``AliasFileError``."""
    configured_aliases()
    redis = connect(settings)
    rule_store = RuleStore(redis)
    rulebook = RuleBook(settings.rules_path, rule_store, RuleDirectory(redis))
    if any(compiled.event_nodes for compiled in rulebook.rules):
        configured_parser().warm_up()  # load the parser now, not when the first candidate sentence arrives
    return AlerterDependencies(
        redis=redis, rulebook=rulebook, alert_log=RedisAlertLog(redis, settings.alert_state_ttl_s),
        recent_alerts=RecentAlerts(redis, settings.alert_republish_window_s),
        rule_api=RuleAPI(rulebook, rule_store), api_tokens=TokenCheck.from_settings(settings),
    )
