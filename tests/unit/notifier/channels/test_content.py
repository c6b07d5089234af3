"""The words every channel shares: the sentence that fired with its matched words, and shortening that keeps
within a limit however the text is made."""

from __future__ import annotations

from services.notifier.channels.content import Segment, excerpt, fired_sentence, sentence_segments
from services.notifier.channels.shortening import length, one_line, shorten
from services.notifier.channels.slack import escape
from shared.schemas import MatchedSentence
from tests.unit.notifier.channels.conftest import make_alert


def test_the_matched_words_are_the_segments_marked_matched() -> None:
    segments = fired_sentence(make_alert())
    assert [segment.text for segment in segments if segment.matched] == ["Kerem Shalom", "Egypt"]
    assert "".join(segment.text for segment in segments) == make_alert().sentences[0].text


def test_offsets_outside_the_sentence_are_ignored_not_trusted() -> None:
    sentence = MatchedSentence(text="Ships wait outside the port.", start=100, end=128,
                               matches=[(100, 105), (90, 95), (120, 400), (106, 104)])
    assert sentence_segments(sentence) == [Segment("Ships", True), Segment(" wait outside the port.")]


def test_a_long_sentence_is_cut_around_its_first_match() -> None:
    segments = [Segment("word " * 2000), Segment("Rafah", True), Segment(" and more " * 500)]
    window = excerpt(segments, 200)
    assert Segment("Rafah", True) in window
    assert window[0].text == "…" and window[-1].text == "…"
    assert sum(len(segment.text) for segment in window) <= 202


def test_shortening_counts_emoji_as_two_and_never_cuts_an_entity() -> None:
    emoji = shorten("\U0001F4F0" * 100, 11)
    assert length(emoji) <= 11 and emoji.endswith("…")
    escaped = shorten("a & b & c & d & e & f & g & h", 20, escape)
    assert length(escaped) <= 20 and escaped.count("&") == escaped.count("&amp;")


def test_one_line_drops_invisible_and_direction_characters() -> None:
    assert one_line("Line one\r\nLine two\x00\x1b \u202etxet\u200b\t end") == "Line one Line two txet end"
