"""What dedupe remembers about the articles it has seen, behind one interface with two homes.

``RedisStoryStore`` (``redis_story_store.py``) is shared by every dedupe worker and survives
restarts; ``MemoryStoryStore`` here serves the offline ``newsmon dedupe`` command and the unit
tests. ``stories.StoryJudge`` makes the decisions; a store only records and recalls, so both
stores give the same answers for the same articles in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A band bucket of a story carried by hundreds of outlets would make every new copy compare against
# all of them; the most recent ones are as good a match and keep the work per article bounded.
MAX_BAND_MEMBERS = 64

ExactKind = Literal["url", "text"]
MatchKind = Literal["url", "text", "minhash"]


class StoryVerdict(BaseModel):
    """Dedupe's answer for one article, stored once per article id and repeated on redelivery."""

    model_config = ConfigDict(frozen=True)

    story_id: str = Field(description="article_id of the first article of the story.")
    duplicate_of: str | None = Field(default=None, description="The earlier article it copies; None for a first.")
    similarity: float | None = Field(default=None, ge=0, le=1, description="Estimated Jaccard similarity to it.")
    matched_on: MatchKind | None = None

    @model_validator(mode="after")
    def _copy_fields_together(self) -> StoryVerdict:
        """A copy has all of duplicate_of, similarity and matched_on; a first has none of them."""
        if len({self.duplicate_of is None, self.similarity is None, self.matched_on is None}) != 1:
            raise ValueError("duplicate_of, similarity and matched_on are set together or not at all")
        return self

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None


@dataclass(frozen=True)
class Recollection:
    """A remembered article: its signature (serialized) and its verdict, when still known."""

    signature: bytes | None
    verdict: StoryVerdict | None


@dataclass(frozen=True)
class Sighting:
    """What the store knew when an article was recorded.

    ``verdict`` is the article's own earlier verdict (a redelivery), ``owners`` maps each exact
    fingerprint kind to the article that claimed it first (possibly this one), ``neighbours``
    are other articles sharing at least one LSH band with it, and ``known`` holds what is still
    remembered of the owners and neighbours other than this article (those forgotten are absent).
    """

    verdict: StoryVerdict | None
    owners: dict[ExactKind, str]
    neighbours: list[str]
    known: dict[str, Recollection] = field(default_factory=dict)


class StoryStore(Protocol):
    """Storage of claims, signatures, LSH bands, verdicts and outlets for one dedupe window.

    Two calls per article, each one round trip to a shared store: ``sight`` records and reports
    everything the decision needs, ``settle`` keeps the decision and counts the outlet.
    """

    async def sight(self, article_id: str, exact_keys: dict[ExactKind, str], signature: bytes,
                    band_keys: list[str]) -> Sighting:
        """Record the article (claim its exact keys, keep its signature, join its bands) and report what
        the store knew, with the signatures and verdicts of the other articles found."""

    async def settle(self, article_id: str, verdict: StoryVerdict, outlet: str) -> tuple[StoryVerdict, int]:
        """Keep the verdict unless the article already has one, and count ``outlet`` (once) as carrying
        the kept verdict's story; return the kept verdict and the story's outlet count."""


@dataclass
class MemoryStoryStore:
    """An in-process ``StoryStore``. Nothing expires: an offline run is far shorter than any window."""

    claims: dict[str, str] = field(default_factory=dict)
    signatures: dict[str, bytes] = field(default_factory=dict)
    bands: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    verdicts: dict[str, StoryVerdict] = field(default_factory=dict)
    outlets: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    async def sight(self, article_id: str, exact_keys: dict[ExactKind, str], signature: bytes,
                    band_keys: list[str]) -> Sighting:
        owners = {kind: self.claims.setdefault(f"{kind}:{digest}", article_id) for kind, digest in exact_keys.items()}
        self.signatures[article_id] = signature
        neighbours: set[str] = set()
        for key in band_keys:
            members = self.bands[key]
            if article_id in members:
                members.remove(article_id)
            members.append(article_id)
            neighbours.update(members[-MAX_BAND_MEMBERS:])
        neighbours.discard(article_id)
        others = {*owners.values(), *neighbours} - {article_id}
        known = {
            other: Recollection(self.signatures.get(other), self.verdicts.get(other))
            for other in others if other in self.signatures or other in self.verdicts
        }
        return Sighting(self.verdicts.get(article_id), owners, sorted(neighbours), known)

    async def settle(self, article_id: str, verdict: StoryVerdict, outlet: str) -> tuple[StoryVerdict, int]:
        kept = self.verdicts.setdefault(article_id, verdict)
        self.outlets[kept.story_id].add(outlet)
        return kept, len(self.outlets[kept.story_id])
