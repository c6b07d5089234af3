"""Article files as users hand them over: scraped text, saved pages, JSON lines, whole folders."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from services.fetcher.collect import collect
from services.fetcher.errors import SourceError
from services.fetcher.files import PublishedFiles, iter_article_files, read_articles
from services.fetcher.polite_http import MemoryValidatorStore, polite_client
from services.fetcher.sources import Source
from shared.article_ids import article_id_for_content, article_id_for_url
from shared.settings import Settings
from tests.news_site import BOILERPLATE, STORIES, story_page

SAMPLES = Path(__file__).parents[3] / "samples" / "articles"
RAIL = STORIES["rail-reopens"]


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    return folder


def test_scraped_text_titles_skip_the_site_chrome(samples: Path) -> None:
    titles = {path.name[:3]: read_articles(path)[0].title for path in iter_article_files([samples])}
    assert titles["000"] == (
        "NATO and the EU urge G7 nations to step up air defense for Ukraine and expand Iran sanctions")
    assert titles["002"] == "US Secretary of State Blinken to travel again to Israel for talks"


def test_scraped_text_article(samples: Path) -> None:
    path = samples / "002_d327a6ada714b97a.txt"
    (article,) = read_articles(path)
    assert article.text == path.read_text("utf-8").strip()
    assert article.source == "file:002_d327a6ada714b97a.txt"
    assert article.article_id == article_id_for_content(article.text)
    assert article.url is None and article.canonical_url is None


def test_the_same_text_keeps_its_id_under_any_file_name(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Storm closes the harbour road\n\nThe road was closed on Monday.\n")
    (tmp_path / "b.txt").write_text("  Storm closes the harbour road\n\nThe road was closed on Monday.")
    first, second = (read_articles(tmp_path / name)[0] for name in ("a.txt", "b.txt"))
    assert first.article_id == second.article_id


def test_long_first_line_is_cut_at_a_word_for_the_title(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 100 + "end.\nSecond line.")
    title = read_articles(path)[0].title
    assert len(title) <= 300 and title.endswith("word") and not title.endswith(" ")


@pytest.mark.parametrize("data", [
    "Grève à Marseille: les déchets s’accumulent".encode("cp1252"),
    "\ufeffCafé in São Paulo".encode(),
    b"Ends with an undefined cp1252 byte \x81 caf\xe9",
])
def test_any_encoding_is_read_never_crashed(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(data)
    text = read_articles(path)[0].text
    assert text.startswith(("Grève à Marseille: les déchets s’accumulent", "Café", "Ends with")), text
    assert "\ufeff" not in text


def test_saved_page_gives_the_clean_story_keyed_by_its_canonical_url(tmp_path: Path) -> None:
    path = tmp_path / "rail.html"
    path.write_text(story_page(RAIL, canonical="https://www.daily-example.com/news/rail?utm_source=x"))
    (article,) = read_articles(path)
    assert article.title == RAIL.title
    assert all(paragraph in article.text for paragraph in RAIL.paragraphs)
    assert not any(chrome in article.text for chrome in BOILERPLATE)
    assert article.canonical_url == "https://www.daily-example.com/news/rail"
    assert article.article_id == article_id_for_url("https://www.daily-example.com/news/rail")
    assert article.published_at == datetime(2026, 11, 20, 6, 45, tzinfo=timezone.utc)
    assert article.source == "file:rail.html"


def test_saved_page_without_canonical_link_is_keyed_by_its_text(tmp_path: Path) -> None:
    path = tmp_path / "rail.htm"
    path.write_text(story_page(RAIL))
    (article,) = read_articles(path)
    assert article.canonical_url is None and article.article_id == article_id_for_content(article.text)


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [
        {"text": " Quake hits the coast.\u2028Schools stay closed. ", "title": "Quake", "tags": ["geo"],
         "url": "https://News.example.com/quake?utm_source=x", "published_at": "2026-11-20T07:30:00+01:00",
         "source": "wire", "language": "en", "extra": "ignored"},
        {"text": "Storm closes the harbour road for the second time this month\nThe road...",
         "published_at": "2026-11-21T08:00:00"},
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines[:1]) + "\n\n  \n"
                    + json.dumps(lines[1]) + "\n")
    first, second = read_articles(path)
    assert (first.title, first.text, first.tags, first.source, first.language) == (
        "Quake", "Quake hits the coast.\u2028Schools stay closed.", ["geo"], "wire", "en")
    assert first.canonical_url == "https://news.example.com/quake"
    assert first.article_id == article_id_for_url("https://news.example.com/quake")
    assert first.published_at == datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)
    assert second.title == "Storm closes the harbour road for the second time this month"
    assert second.source == "file:batch.jsonl" and second.url is None
    assert second.article_id == article_id_for_content(second.text)
    assert second.published_at == datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc), "no zone means UTC"


@pytest.mark.parametrize(("second_line", "problem"), [
    ('{"text": "ok", ', r"batch.jsonl:3: not JSON"),
    ('{"title": "no text"}', r"batch.jsonl:3: field text: Field required"),
    ('{"text": "   "}', r"batch.jsonl:3: field text: String should have at least 1 character"),
    ('{"text": "ok", "published_at": "last Tuesday"}', r"batch.jsonl:3: field published_at: "),
    ('{"text": "ok", "tags": "geo"}', r"batch.jsonl:3: field tags: "),
    ('["text"]', r"batch.jsonl:3: Input should be a valid dictionary"),
])
def test_bad_json_lines_are_named_by_file_and_line(tmp_path: Path, second_line: str, problem: str) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text('{"text": "fine"}\n\n' + second_line + "\n")
    with pytest.raises(SourceError, match=problem):
        read_articles(path)


@pytest.mark.parametrize("name", ["empty.txt", "empty.html", "empty.jsonl"])
def test_empty_files_are_errors_naming_the_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(" \n\n ")
    with pytest.raises(SourceError, match=rf"{name}: the file is empty"):
        read_articles(tmp_path / name)


def test_page_without_article_text_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body><nav>Home News Sport</nav></body></html>")
    with pytest.raises(SourceError, match="index.html: no article text"):
        read_articles(tmp_path / "index.html")


def test_other_file_types_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(SourceError, match=r"notes.pdf: not an article file; expected one of \.txt"):
        read_articles(tmp_path / "notes.pdf")


def test_folders_are_expanded_recursively_sorted_and_filtered(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.jsonl", "a/y.HTML", "c.htm", "notes.md", "image.png", ".hidden.txt", ".git/x.txt"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text("x")
    single = tmp_path / "single.md"
    single.write_text("x")
    found = [path.relative_to(tmp_path).as_posix() for path in iter_article_files([tmp_path / "in", single])]
    assert found == ["in/a/y.HTML", "in/a/z.jsonl", "in/b.txt", "in/c.htm", "single.md"]


def test_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nowhere/at-all.txt: no such file or folder"):
        list(iter_article_files([tmp_path / "nowhere" / "at-all.txt"]))


async def test_a_polled_folder_reads_again_only_the_files_changed_since_a_poll_published_them(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.txt").write_text("Council passes budget\n\nThe town council passed its budget on Monday night.\n")
    (folder / "b.txt").write_text("Bridge closes for repairs\n\nThe old bridge closes for three weeks from Friday.\n")
    source = Source(name="drop", kind="files", path=folder)
    http = polite_client(Settings(_env_file=None, data_dir=tmp_path), MemoryValidatorStore())
    published = PublishedFiles()
    try:
        first = await collect(source, http, published)
        assert sorted(article.title for article in first.articles) == ["Bridge closes for repairs",
                                                                        "Council passes budget"]
        assert (await collect(source, http, published)).articles != [], "nothing remembered before it is published"

        published.remember(first.files)  # what a poll does once its articles are published
        assert (await collect(source, http, published)).articles == []

        (folder / "b.txt").write_text("Bridge reopens early\n\nThe old bridge reopened on Tuesday, ahead of plan.\n")
        (folder / "c.txt").write_text("Library extends hours\n\nThe library now opens until nine on weekdays.\n")
        third = await collect(source, http, published)
        assert sorted(article.title for article in third.articles) == ["Bridge reopens early", "Library extends hours"]
        published.remember(third.files)
        (folder / "a.txt").unlink()
        assert (await collect(source, http, published)).articles == []
    finally:
        await http.client.aclose()
