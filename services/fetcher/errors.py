"""Errors of the fetcher's inputs."""

from __future__ import annotations


class SourceError(Exception):
    """A file, folder or feed that cannot be read; the message names it and says why.

    ``kind`` is a bounded label (``malformed_feed``, ``http_4xx``, ...) under which the failure is
    counted in ``newsmon_fetch_skipped_total``.
    """

    def __init__(self, message: str, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind
