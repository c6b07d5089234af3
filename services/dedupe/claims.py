"""First-seen claims in Redis: which article owns a fingerprint, shared by every dedupe worker.

A claim is ``SET key article_id NX EX ttl``: the first article to claim a fingerprint owns it for
the dedupe window. Claiming again with the same article id (a redelivered message) finds its own
claim and gets the same answer, so redelivery never turns an article into a duplicate of itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

KEY_PREFIX = "newsmon:dedupe"


@dataclass(frozen=True)
class Verdict:
    """Outcome for one article: unique, or a duplicate of ``duplicate_of`` by ``matched_on``."""

    article_id: str
    duplicate_of: str | None = None
    matched_on: str | None = None

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None


async def claim(redis: Redis, article_id: str, keys: dict[str, str], ttl_seconds: int) -> Verdict:
    """Claim every fingerprint of the article; a fingerprint owned by another article makes it a duplicate."""
    async with redis.pipeline(transaction=False) as pipe:
        for kind, digest in keys.items():
            pipe.set(f"{KEY_PREFIX}:{kind}:{digest}", article_id, nx=True, ex=ttl_seconds)
            pipe.get(f"{KEY_PREFIX}:{kind}:{digest}")
        replies = await pipe.execute()
    owners = replies[1::2]
    for kind, owner in zip(keys, owners, strict=True):
        owner_id = owner.decode() if isinstance(owner, bytes) else owner
        if owner_id != article_id:
            return Verdict(article_id, duplicate_of=owner_id, matched_on=kind)
    return Verdict(article_id)
