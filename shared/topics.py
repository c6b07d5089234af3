"""Kafka topic names: the only place they are spelled out."""

from __future__ import annotations

ARTICLES_RAW = "articles.raw"
ARTICLES_UNIQUE = "articles.unique"
ARTICLES_DUPLICATES = "articles.duplicates"
ARTICLES_ENRICHED = "articles.enriched"
ALERTS = "alerts"

PIPELINE_TOPICS = (ARTICLES_RAW, ARTICLES_UNIQUE, ARTICLES_DUPLICATES, ARTICLES_ENRICHED, ALERTS)


def dead_letter_topic(service: str) -> str:
    """Dead-letter topic of one consuming service, e.g. ``dead-letter.dedupe``."""
    return f"dead-letter.{service}"
