"""Hard-wrapped text from every kind of source the fetcher reads (plain-text files, JSON lines, pages) reaches the
sentence splitter with one line per paragraph.

The fetcher publishes text as the source wrote it (``articles.raw``); the one place lines are joined is
the cleanup every article goes through before hashing (``services/dedupe/cleanup.py``), so these tests
read with the fetcher's readers and clean as the pipeline does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.dedupe.cleanup import cleaned_article
from services.fetcher.extraction import extract_page
from services.fetcher.files import read_articles
from shared.schemas import RawArticle

PARAGRAPH = ("The Treasury on Tuesday imposed sanctions on five companies and two people it said\n"
             "bought engines for Iran's drone program, and warned that banks dealing with them\n"
             "could face penalties. The firms are based in Turkey and the United Arab Emirates.")
JOINED = PARAGRAPH.replace("\n", " ")
WIRE = f"Treasury targets drone suppliers\n\n{PARAGRAPH}\n\nThe ministry in Tehran did not comment on the\nmove."


def cleaned_lines(article: RawArticle) -> list[str]:
    cleaned, _ = cleaned_article(article)
    return [line for line in cleaned.text.split("\n") if line]


def test_a_wrapped_plain_text_file(tmp_path: Path) -> None:
    path = tmp_path / "wire.txt"
    path.write_text(WIRE)
    [article] = read_articles(path)
    assert "\n" in article.text, "the fetcher keeps the text as written"
    assert cleaned_lines(article) == ["Treasury targets drone suppliers", JOINED,
                                      "The ministry in Tehran did not comment on the move."]


def test_a_wrapped_text_in_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"url": "https://wire.example/1", "title": "Drone suppliers", "text": PARAGRAPH}) + "\n")
    [article] = read_articles(path)
    assert cleaned_lines(article) == [JOINED]


@pytest.mark.parametrize("markup", [f"<pre>{PARAGRAPH}</pre>", "<p>" + PARAGRAPH.replace("\n", "<br>\n") + "</p>"])
def test_a_wrapped_page(markup: str) -> None:
    html = (f"<html><head><title>Drone suppliers</title></head><body><article><h1>Drone suppliers</h1>{markup}"
            "</article></body></html>")
    page = extract_page(html, "https://news.example/drones")
    assert page is not None
    article = RawArticle(article_id="a", text=page.text, title=page.title, source="https://news.example")
    assert JOINED in cleaned_lines(article)
