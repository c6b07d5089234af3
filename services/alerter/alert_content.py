"""What an alert says: built from a rule match and its article, so a reader sees why it fired."""

from __future__ import annotations

from datetime import datetime

from services.alerter.rule_engine.matching import RuleMatch
from shared.article_ids import alert_id
from shared.schemas import Alert, EnrichedArticle, utcnow


def build_alert(match: RuleMatch, article: EnrichedArticle, fired_at: datetime | None = None) -> Alert:
    """The alert for one rule on one article: the matched sentences with the offsets of what matched,
    the entity mentions of those sentences, the event of each (action, object, target, source) when
    the rule has an event condition, and the pipeline latency.

    The id depends on the rule and the story only, so every copy and redelivery of a story gives
    the same alert id.
    """
    fired = fired_at or utcnow()
    sentence_starts = {sentence.start for sentence in match.sentences}
    matched_indexes = {i for i, sentence in enumerate(article.sentences) if sentence.start in sentence_starts}
    return Alert(
        alert_id=alert_id(match.rule.id, article.story_id),
        rule_id=match.rule.id,
        rule_name=match.rule.name,
        article_id=article.article_id,
        story_id=article.story_id,
        url=article.url,
        title=article.title,
        source=article.source,
        published_at=article.published_at,
        sentences=match.sentences,
        mentions=[mention for mention in article.mentions if mention.sentence in matched_indexes],
        fired_at=fired,
        fetched_at=article.fetched_at,
        latency_s=round((fired - article.fetched_at).total_seconds(), 3),
        events=match.events,
        priority="urgent" if match.rule.priority == "urgent" else None,
    )
