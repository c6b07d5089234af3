"""What dedupe does with one article: clean it, judge its story, send it where the verdict says.

The first article of a story goes to ``articles.unique``; later copies (exact or near duplicates
within the window) go to ``articles.duplicates`` with ``duplicate_of``, ``similarity`` and the
story's outlet count. An article with no text left after cleanup is ``Rejected`` (kind
``empty_after_cleanup``), which the stage's failure policy dead-letters with the reason. Sending is
a port, so the same class runs on Kafka in the service and on lists in the unit tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from services.dedupe.cleanup import EmptyArticle, cleaned_article
from services.dedupe.metrics import OUTCOMES, REMOVED_LINES, STORY_OUTLETS
from services.dedupe.stories import Judgement, StoryJudge, story_message
from shared.failure_policy import Rejected
from shared.logs import log_event
from shared.schemas import DuplicateArticle, RawArticle, UniqueArticle

logger = logging.getLogger(__name__)

EMPTY_AFTER_CLEANUP = "empty_after_cleanup"
SendUnique = Callable[[UniqueArticle], Awaitable[None]]
SendDuplicate = Callable[[DuplicateArticle], Awaitable[None]]


class Deduplicator:
    """Cleans, judges and routes articles; a redelivered article gets the same verdict and route."""

    def __init__(self, judge: StoryJudge, send_unique: SendUnique, send_duplicate: SendDuplicate) -> None:
        self.judge = judge
        self.send_unique = send_unique
        self.send_duplicate = send_duplicate

    async def on_article(self, article: RawArticle) -> Judgement:
        """Route one raw article; raises ``Rejected`` when cleanup leaves no text."""
        try:
            cleaned, cleanup = cleaned_article(article)
        except EmptyArticle as error:
            raise Rejected(EMPTY_AFTER_CLEANUP, str(error)) from error
        judgement = await self.judge.judge(cleaned)
        message = story_message(cleaned, judgement)
        verdict = judgement.verdict
        if isinstance(message, DuplicateArticle):
            await self.send_duplicate(message)
            OUTCOMES.labels("duplicate", verdict.matched_on or "").inc()
            STORY_OUTLETS.observe(judgement.outlets)
            log_event(logger, "dedupe.duplicate", article_id=cleaned.article_id, story_id=verdict.story_id,
                      duplicate_of=verdict.duplicate_of, similarity=verdict.similarity,
                      matched_on=verdict.matched_on, story_outlets=judgement.outlets)
        else:
            await self.send_unique(message)
            OUTCOMES.labels("unique", "").inc()
            log_event(logger, "dedupe.unique", article_id=cleaned.article_id, story_id=verdict.story_id)
        # Counted once the article went out, so a retried outage does not count its lines twice.
        REMOVED_LINES.labels("repeated").inc(cleanup.repeated_lines)
        REMOVED_LINES.labels("boilerplate").inc(cleanup.boilerplate_lines)
        return judgement
