"""Story ids: which earlier article an article copies, if any, decided alike on every worker.

For an article without a stored verdict, the candidates are the articles that claimed one of its
exact fingerprints first (canonical URL, normalized text) and the articles sharing an LSH band
with it whose estimated similarity reaches the threshold (texts shorter than about fifty words
join no band, see ``sketches.MIN_SHINGLES``: they are deduped exactly only). Only candidates that
already have a verdict count as near duplicates: one being judged by another worker right now has
no story yet.
A candidate whose story is this very article is ignored; that happens only when an earlier attempt
at this article crashed after recording it and a copy joined its story meanwhile. The most similar
candidate wins and the article joins its story; without one, the article starts a story of its own.

The verdict is stored once per article id (``settle``) and returned on every later delivery of the
same id, so Kafka's redeliveries get the same answer and an article is never a duplicate of itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from datasketch import LeanMinHash

from services.dedupe.fingerprint import as_unique, fingerprints
from services.dedupe.sketches import Sketcher, signature_bytes, signature_from_bytes
from services.dedupe.story_store import MatchKind, Recollection, Sighting, StoryStore, StoryVerdict
from shared.schemas import DuplicateArticle, RawArticle, UniqueArticle


@dataclass(frozen=True)
class Judgement:
    """An article's verdict and how many outlets carry its story, this article's included."""

    verdict: StoryVerdict
    outlets: int


@dataclass(frozen=True)
class _Candidate:
    similarity: float
    exact: bool
    article_id: str
    story_id: str
    matched_on: MatchKind


def outlet_of(article: RawArticle) -> str:
    """The outlet that published the article: the host of its URL (without ``www.``), else its source."""
    url = article.canonical_url or article.url
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else article.source


class StoryJudge:
    """Assigns story ids through a ``StoryStore``; the same code runs in the service and offline."""

    def __init__(self, store: StoryStore, sketcher: Sketcher) -> None:
        self.store = store
        self.sketcher = sketcher

    async def judge(self, article: RawArticle) -> Judgement:
        """The verdict for a cleaned article (``cleanup.cleaned_article``), recorded in the store."""
        sketch = self.sketcher.sketch(article.text)
        sighting = await self.store.sight(
            article.article_id, fingerprints(article), signature_bytes(sketch.signature), sketch.band_keys
        )
        decided = sighting.verdict or self._decide(article.article_id, sighting, sketch.signature)
        verdict, outlets = await self.store.settle(article.article_id, decided, outlet_of(article))
        return Judgement(verdict, outlets)

    def _decide(self, article_id: str, sighting: Sighting, signature: LeanMinHash) -> StoryVerdict:
        owners = {owner: kind for kind, owner in sighting.owners.items() if owner != article_id}
        neighbours = [neighbour for neighbour in sighting.neighbours if neighbour not in owners]
        known = sighting.known
        candidates: list[_Candidate] = []
        for owner, kind in owners.items():
            memory = known.get(owner, Recollection(None, None))
            similarity = _similarity(signature, memory.signature)
            story_id = memory.verdict.story_id if memory.verdict else owner
            candidates.append(_Candidate(1.0 if similarity is None else similarity, True, owner, story_id, kind))
        for neighbour in neighbours:
            memory = known.get(neighbour, Recollection(None, None))
            similarity = _similarity(signature, memory.signature)
            if memory.verdict and similarity is not None and similarity >= self.sketcher.threshold:
                candidates.append(_Candidate(similarity, False, neighbour, memory.verdict.story_id, "minhash"))
        candidates = [candidate for candidate in candidates if candidate.story_id != article_id]
        if not candidates:
            return StoryVerdict(story_id=article_id)
        best = max(candidates, key=lambda candidate: (candidate.similarity, candidate.exact, candidate.article_id))
        return StoryVerdict(story_id=best.story_id, duplicate_of=best.article_id, similarity=best.similarity,
                            matched_on=best.matched_on)


def _similarity(signature: LeanMinHash, other: bytes | None) -> float | None:
    return signature.jaccard(signature_from_bytes(other)) if other else None


def story_message(cleaned: RawArticle, judgement: Judgement) -> UniqueArticle | DuplicateArticle:
    """What leaves dedupe: the first of a story for ``articles.unique``, a copy for ``articles.duplicates``."""
    verdict = judgement.verdict
    unique = as_unique(cleaned, verdict.story_id)
    if verdict.duplicate_of is None or verdict.similarity is None or verdict.matched_on is None:
        return unique
    return DuplicateArticle(
        **unique.model_dump(), duplicate_of=verdict.duplicate_of, similarity=verdict.similarity,
        matched_on=verdict.matched_on, story_outlets=judgement.outlets,
    )
