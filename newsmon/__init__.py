"""newsmon: a self-hosted streaming news monitor (fetcher -> dedupe -> ner -> alerter -> notifier over Kafka)."""

__version__ = "0.1.0"
