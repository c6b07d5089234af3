"""Article ids and canonical URLs: the keys every topic is partitioned by."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader and never change the article.
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "ocid", "cmpid", "ref", "smid"})


def sha256_hex(text: str) -> str:
    """Hex sha256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_url(url: str) -> str:
    """Lower-cased scheme and host, no fragment, no ``utm_*`` or other tracking parameters."""
    parts = urlsplit(url.strip())
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in _TRACKING_PARAMS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def article_id_for_url(url: str) -> str:
    """Id of a web article: the hash of its canonical URL, so re-fetches keep their id."""
    return sha256_hex(canonical_url(url))[:32]


def article_id_for_content(text: str) -> str:
    """Id of file input with no URL: the hash of its content, so replays keep their id."""
    return sha256_hex(text)[:32]


def alert_id(rule_id: str, story_id: str) -> str:
    """Stable alert id: one per (rule, story), whatever copy of the story or redelivery fired it."""
    return sha256_hex(f"{rule_id}\x00{story_id}")[:32]
