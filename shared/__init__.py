"""Contracts and plumbing every newsmon service shares: settings, topics, schemas, Kafka app, metrics."""
