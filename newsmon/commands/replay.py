"""Publishing article files to ``articles.raw``: ``newsmon replay`` and ``newsmon up --replay``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from shared import topics
from shared.settings import get_settings

if TYPE_CHECKING:
    from services.fetcher.errors import SourceError


async def publish_files(
    paths: list[Path], show_progress: bool, on_skip: Optional[Callable[[SourceError], None]] = None
) -> int:
    """Publish the articles of ``paths``; a bad file raises, or with ``on_skip`` is reported there and skipped."""
    from services.fetcher.errors import SourceError
    from services.fetcher.files import iter_article_files, read_articles
    from shared.kafka_clients import producer

    files = list(iter_article_files(paths))
    client = producer(get_settings())
    await client.start()
    count = 0
    try:
        with typer.progressbar(files, label="replaying", hidden=not show_progress) as progress:
            for path in progress:
                try:
                    articles = read_articles(path)
                except SourceError as error:
                    if on_skip is None:
                        raise
                    on_skip(error)
                    continue
                for article in articles:
                    await client.send_and_wait(
                        topics.ARTICLES_RAW, article.model_dump_json().encode(), key=article.article_id.encode()
                    )
                    count += 1
    finally:
        await client.stop()
    return count
