"""Errors of the fetcher's inputs."""

from __future__ import annotations


class SourceError(Exception):
    """A file, folder or feed that cannot be read; the message names it and says why."""
