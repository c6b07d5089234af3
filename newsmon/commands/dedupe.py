"""``newsmon dedupe [--json] FILES...``: which story each article file belongs to, offline.

The files go through the dedupe service's own code (cleanup, exact fingerprints, MinHash LSH,
story decisions) with an in-process store instead of Redis, in the order given (folders sorted),
so the first file of a story is its first article. No broker or Redis is needed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from services.dedupe.cleanup import EmptyArticle, cleaned_article
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import Judgement, StoryJudge
from services.dedupe.story_store import MemoryStoryStore
from services.fetcher.errors import SourceError
from services.fetcher.files import iter_article_files, read_articles
from shared.schemas import RawArticle
from shared.settings import get_settings


@dataclass(frozen=True)
class FileVerdict:
    """One article's verdict; ``file`` is the path, with ``:N`` for the N-th article of a .jsonl file."""

    file: str
    article_id: str
    judgement: Judgement

    def as_json(self) -> str:
        verdict = self.judgement.verdict
        return json.dumps({"file": self.file, "story_id": verdict.story_id, "duplicate_of": verdict.duplicate_of,
                           "similarity": verdict.similarity})

    def line(self) -> str:
        verdict = self.judgement.verdict
        if verdict.duplicate_of is None:
            return f"{self.file}: story {verdict.story_id} (first)"
        return (f"{self.file}: story {verdict.story_id} duplicate_of {verdict.duplicate_of} "
                f"similarity {verdict.similarity:.2f} ({verdict.matched_on})")


def labelled_articles(paths: list[Path]) -> Iterator[tuple[str, RawArticle | SourceError]]:
    """Each article of each file with its label for the output, or the error of a file it cannot read."""
    for given in paths:
        try:
            files = list(iter_article_files([given]))
        except SourceError as error:
            yield str(given), error
            continue
        for path in files:
            try:
                articles = read_articles(path)
            except SourceError as error:
                yield str(path), error
                continue
            for number, article in enumerate(articles, start=1):
                yield (f"{path}:{number}" if len(articles) > 1 else str(path)), article


Skipped = tuple[str, EmptyArticle | SourceError]


async def judge_files(paths: list[Path], threshold: float) -> list[FileVerdict | Skipped]:
    """The verdict of every article, or why a file or article has none (unreadable, no text left)."""
    judge = StoryJudge(MemoryStoryStore(), Sketcher(threshold))
    results: list[FileVerdict | Skipped] = []
    for label, article in labelled_articles(paths):
        if isinstance(article, SourceError):
            results.append((label, article))
            continue
        try:
            cleaned, _ = cleaned_article(article)
        except EmptyArticle as error:
            results.append((label, error))
            continue
        results.append(FileVerdict(label, article.article_id, await judge.judge(cleaned)))
    return results


def dedupe_command(
    files: Annotated[list[Path], typer.Argument(help="Article files or folders (.txt, .html, .jsonl), oldest first.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per article.")] = False,
) -> None:
    """Story id, duplicate_of and similarity of each article, through the same code as the dedupe service.

    Unreadable files are reported on stderr and the others still judged; the exit code is then 2.
    """
    results = asyncio.run(judge_files(files, get_settings().dedupe_similarity_threshold))
    unreadable = False
    for result in results:
        if isinstance(result, FileVerdict):
            typer.echo(result.as_json() if as_json else result.line())
            continue
        label, problem = result
        if isinstance(problem, SourceError):
            unreadable = True
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        else:
            typer.secho(f"{label}: skipped: {problem}", fg=typer.colors.YELLOW, err=True)
    if unreadable:
        raise typer.Exit(2)
