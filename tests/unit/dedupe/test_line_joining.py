"""Hard-wrapped paragraphs are joined before sentences are split: a wrap inside a sentence is a space; a blank
line, a heading, a list item or a short title line still ends a paragraph."""

from __future__ import annotations

import pytest

from services.dedupe.cleanup import clean_text
from services.dedupe.line_joining import join_wrapped_lines

WIRE = """LONDON, March 4 (Wire) - Britain on Tuesday imposed sanctions on
four shipping companies it said carried Iranian crude to buyers in
Asia. The foreign office said more names could follow.

The measures freeze any assets the firms hold in the UK."""


def test_a_wrapped_paragraph_becomes_one_line_and_blank_lines_still_separate() -> None:
    assert join_wrapped_lines(WIRE).split("\n") == [
        "LONDON, March 4 (Wire) - Britain on Tuesday imposed sanctions on four shipping companies it said "
        "carried Iranian crude to buyers in Asia. The foreign office said more names could follow.",
        "",
        "The measures freeze any assets the firms hold in the UK.",
    ]


def test_list_items_and_headings_keep_their_own_lines() -> None:
    text = ("The ministry named the firms in a statement on Monday and said they\n"
            "had moved cargo for the navy. The firms are:\n"
            "- Blue Harbour Shipping of Dubai\n"
            "- Northern Star Trading of Hong Kong\n"
            "BACKGROUND\n"
            "The list was first published in May and has grown every month since\n"
            "then, officials said.")
    assert join_wrapped_lines(text).split("\n") == [
        "The ministry named the firms in a statement on Monday and said they had moved cargo for the navy. "
        "The firms are:",
        "- Blue Harbour Shipping of Dubai",
        "- Northern Star Trading of Hong Kong",
        "BACKGROUND",
        "The list was first published in May and has grown every month since then, officials said.",
    ]


@pytest.mark.parametrize("text", [
    # A scraped page: a title, a byline and paragraphs on lines of their own are left as they are.
    "Britain imposes new sanctions\nBy a staff writer\nBritain on Tuesday imposed sanctions on four shipping "
    "companies that it said carried crude for the navy of a country in the region, officials said on Tuesday.\n"
    "The measures freeze any assets the firms hold in the UK and ban their directors from travelling there.",
    "Short line one\nShort line two",
])
def test_text_that_is_not_wrapped_is_left_alone(text: str) -> None:
    assert join_wrapped_lines(text) == text


def test_a_word_hyphenated_at_a_wrap_is_joined_without_a_space_and_joining_is_idempotent() -> None:
    text = "The ministry said the measures target the anti-\ngovernment militia and its suppliers."
    joined = join_wrapped_lines(text)
    assert joined == "The ministry said the measures target the anti-government militia and its suppliers."
    assert join_wrapped_lines(joined) == joined


def test_cleanup_joins_wrapped_lines_for_every_article() -> None:
    cleaned = clean_text(WIRE + "\n\nShare on Facebook")
    assert cleaned.text.split("\n")[0].endswith("The foreign office said more names could follow.")
    assert cleaned.boilerplate_lines == 1
