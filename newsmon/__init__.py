"""newsmon: a self-hosted streaming news monitor (fetcher -> dedupe -> ner -> alerter -> notifier over Kafka)."""

from shared.version import __version__

__all__ = ["__version__"]
