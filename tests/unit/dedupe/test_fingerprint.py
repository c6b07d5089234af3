"""Exact-duplicate fingerprints: copies that differ only in form hash alike, different text does not."""

from __future__ import annotations

from services.dedupe.fingerprint import content_hash, fingerprints, normalize_text
from shared.schemas import RawArticle


def test_case_spacing_punctuation_and_accents_do_not_matter() -> None:
    assert content_hash("Café  talks — resume.\n") == content_hash("cafe talks resume")
    assert normalize_text("U.S.  Secretary!") == "u s secretary"


def test_different_text_differs() -> None:
    assert content_hash("Talks resume in Cairo") != content_hash("Talks resume in Doha")


def test_url_fingerprint_ignores_tracking_parameters() -> None:
    first = RawArticle(article_id="a", text="t", source="s", url="https://News.example.com/a?utm_source=x#frag")
    second = RawArticle(article_id="b", text="t", source="s", url="https://news.example.com/a")
    assert fingerprints(first) == fingerprints(second)


def test_file_input_has_only_a_text_fingerprint() -> None:
    assert set(fingerprints(RawArticle(article_id="a", text="t", source="file:x.txt"))) == {"text"}
