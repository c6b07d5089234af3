"""Pages extracted per second: newsmon's extraction beside raw trafilatura doing the same job
(main text + metadata, precision mode) on the same pages, in the same run; prints both and the
ratio, plus text-only trafilatura.extract for scale (metadata is most of the cost). The pages are
the benchmark corpus's articles (``corpus.py``) dressed as a news site serves them."""

from __future__ import annotations

import html
import time

import trafilatura

from services.fetcher.extraction import extract_page
from tests.bench.corpus import generate

ARTICLES = 20
ROUNDS = 3


def pages() -> list[str]:
    """The corpus's articles as realistic pages: navigation, share bars, related links, footer."""
    built = []
    for article in generate(ARTICLES):
        title = html.escape(article.title)
        paragraphs = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in article.text.split("\n\n"))
        related = "".join(f"<li><a href='/r/{i}'>Related story number {i}</a></li>" for i in range(15))
        built.append(
            f"<html><head><title>{title}</title><link rel='canonical' href='{article.url}'>"
            f"<meta property='article:published_time' content='2026-11-23T08:00:00Z'></head><body>"
            f"<nav><a href='/'>Home</a><a href='/world'>World</a><a href='/sport'>Sport</a></nav>"
            f"<div class='share'>Share on Facebook Share on X Email</div><article><h1>{title}</h1>{paragraphs}"
            f"</article><aside><ul>{related}</ul></aside><footer>© News Example. All rights reserved.</footer>"
            "</body></html>"
        )
    return built


def rate(function, documents: list[str]) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for document in documents:
            function(document)
    return ROUNDS * len(documents) / (time.perf_counter() - started)


def main() -> None:
    documents = pages()
    rate(trafilatura.extract, documents)  # warm-up: lxml and trafilatura caches
    raw = rate(lambda html: trafilatura.bare_extraction(html, with_metadata=True, favor_precision=True), documents)
    ours = rate(lambda html: extract_page(html, None), documents)
    text_only = rate(trafilatura.extract, documents)
    print(f"fetcher extraction: newsmon {ours:.1f} pages/s, raw trafilatura (same options) {raw:.1f} pages/s, "
          f"ratio {ours / raw:.2f}; text-only trafilatura.extract {text_only:.1f} pages/s")


if __name__ == "__main__":
    main()
