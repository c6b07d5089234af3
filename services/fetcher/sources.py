"""The fetcher's sources file: feeds, single pages, news sitemaps and local files, each with its own
poll interval, tags and enable flag. Errors name the file, the source and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from services.fetcher.errors import SourceError
from services.fetcher.urls import web_url
from shared.config_errors import parse_entries_yaml, read_config_text

SourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]


class Source(BaseModel):
    """One place news comes from."""

    model_config = ConfigDict(extra="forbid")

    name: SourceName
    kind: Literal["feed", "page", "sitemap", "files"]
    url: str | None = Field(default=None, description="For feed, page and sitemap.")
    path: Path | None = Field(default=None, description="For files: a file or folder.")
    interval_s: float = Field(default=300.0, gt=0, description="Seconds between polls.")
    tags: list[str] = Field(default_factory=list, description="Passed through on every article.")
    enabled: bool = True

    @model_validator(mode="after")
    def _location_matches_kind(self) -> Source:
        if self.kind == "files" and self.path is None:
            raise ValueError("a files source needs `path`")
        if self.kind != "files":
            if not self.url:
                raise ValueError(f"a {self.kind} source needs `url`")
            if not self.url.startswith(("http://", "https://")):
                raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
            if web_url(self.url) is None:
                raise ValueError(f"url is not a valid URL: {self.url!r}")
        return self


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source]


def parse_sources(text: str, origin: str) -> list[Source]:
    """Validated, enabled sources; every error message starts with ``origin``."""
    parsed = parse_entries_yaml(text, origin, SourcesFile, SourceError, "sources", "source")
    names = [source.name for source in parsed.sources]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise SourceError(f"{origin}: source names must be unique: {', '.join(duplicated)}")
    return [source for source in parsed.sources if source.enabled]


def load_sources(path: Path) -> list[Source]:
    """Sources from a YAML file (read within ``shared.config_errors``' bounds, like the rule file)."""
    return parse_sources(read_config_text(path, SourceError, "sources file"), str(path))


def configured_sources(
    sources_path: Path | None, feed_urls: list[str], feed_interval_s: float, feeds_origin: str = "NEWSMON_FEEDS"
) -> list[Source]:
    """The sources file (if any) plus the feed URL shorthand, as one list.

    A bad feed URL raises SourceError in one line that starts with ``feeds_origin``, where the user
    gave it (``NEWSMON_FEEDS``, ``--feed``), and quotes the URL.
    """
    sources = load_sources(sources_path) if sources_path else []
    for index, url in enumerate(feed_urls):
        try:
            sources.append(Source(name=f"feed-{index + 1}", kind="feed", url=url, interval_s=feed_interval_s))
        except ValidationError as error:
            problems = "; ".join(str(item["msg"]).removeprefix("Value error, ") for item in error.errors())
            raise SourceError(f"{feeds_origin}: {problems}") from None
    return sources
