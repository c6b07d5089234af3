"""Cleanup: repeated captions and site chrome leave, the article's own text stays as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.dedupe.cleanup import EmptyArticle, clean_text, cleaned_article, is_boilerplate
from services.fetcher.files import read_articles
from shared.schemas import RawArticle

CAPTION = ("German Foreign Minister Annalena Baerbock talks to reporters during the G7 Foreign Ministers meeting on "
           "Capri Island, Italy, Thursday, April 18, 2024. (AP Photo/Gregorio Borgia)")


def test_seed_with_repeated_captions_keeps_each_line_once(sample_dir: Path) -> None:
    raw = (sample_dir / "000_1a88f4a49be5f51d.txt").read_text()
    assert raw.count(CAPTION) == 12
    cleaned = clean_text(raw)
    assert cleaned.text.count(CAPTION) == 1
    assert cleaned.text.count("NATO and the EU urge G7 nations to step up air defense") == 1
    assert not cleaned.text.startswith("Skip to Content") and "Recommended Articles" not in cleaned.text
    assert cleaned.repeated_lines > 50 and cleaned.boilerplate_lines == 3
    for line in {line for line in raw.splitlines() if line.strip()}:
        assert line.rstrip() in cleaned.text or line.strip() in ("Skip to Content Facebook Feature Image",
                                                                 "More Images", "Recommended Articles")


def test_widget_errors_and_repeated_photo_caption_go_story_stays(sample_dir: Path) -> None:
    raw = (sample_dir / "002_d327a6ada714b97a.txt").read_text()
    cleaned = clean_text(raw).text
    assert "Oops" not in cleaned and "Something went wrong" not in cleaned and "try again later" not in cleaned
    assert cleaned.count("Amos Ben-Gershom/GPO/dpa") == 1
    assert cleaned.startswith("US Secretary of State Blinken to travel again to Israel for talks\n\n")
    assert "Netanyahu had said his army will also now go into Rafah near the border with Egypt" in cleaned
    assert "\n\n\n" not in cleaned


def test_clean_text_is_left_alone_and_cleanup_is_idempotent(sample_dir: Path) -> None:
    clean = (sample_dir / "001_757be6f2e390ada8.txt").read_text().strip()
    assert clean_text(clean).text == clean
    once = clean_text((sample_dir / "000_1a88f4a49be5f51d.txt").read_text()).text
    assert clean_text(once).text == once


@pytest.mark.parametrize("line", [
    "Skip to main content", "  • Oops!", "Something went wrong.", "Please try again later.",
    "Share on Facebook Share on X Email", "We use cookies to improve your experience on our site.",
    "Accept all cookies", "Advertisement", "Recommended Articles", "More Images",
    "Subscribe to our newsletter", "© 2024 The Evening Courier. All rights reserved.",
])
def test_site_chrome_is_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "News",
    "Share prices fell sharply in Tokyo on Monday.",
    "The regulator said the site uses cookies to track readers without their consent, and it opened an inquiry "
    "into the practice after complaints from three consumer groups.",
    "Related talks are expected in Geneva next week.",
])
def test_article_text_is_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


@pytest.mark.parametrize("text", ["   \n\t\n ", "Skip to Content\n\nAdvertisement\n  • Oops!\nShare on Facebook"])
def test_article_with_nothing_left_is_an_error_naming_it(text: str) -> None:
    with pytest.raises(EmptyArticle, match="article a1b2: no text left after removing"):
        cleaned_article(RawArticle(article_id="a1b2", text=text, source="file:empty.txt"))


def test_cleaned_article_keeps_every_other_field(sample_dir: Path) -> None:
    article = read_articles(sample_dir / "002_d327a6ada714b97a.txt")[0]
    cleaned, _ = cleaned_article(article)
    assert cleaned.model_dump(exclude={"text"}) == article.model_dump(exclude={"text"})
    assert cleaned.text == clean_text(article.text).text
