"""Language identification: confident on article text, silent on fragments, declared tags normalized."""

from __future__ import annotations

import pytest

from services.ner.language import article_language, detect_language, primary_language


@pytest.mark.parametrize(("text", "language"), [
    ("US Secretary of State Antony Blinken will travel to Israel at the end of the week as differences grow.", "en"),
    ("Netanyahu hatte gesagt, seine Armee werde nun auch in Rafah nahe der Grenze zu Ägypten einmarschieren.", "de"),
    ("Netanyahu a déclaré que son armée entrerait aussi à Rafah, près de la frontière avec l'Égypte.", "fr"),
    ("Нетаньяху заявил, что армия войдет в Рафах, у границы с Египтом, в ближайшие дни.", "ru"),
])
def test_article_text_is_identified(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "   ", "Rafah", "Blinken to visit Israel", "2024-04-19 05:22"])
def test_fragments_are_not_guessed(text: str) -> None:
    assert detect_language(text) is None


def test_declared_tags_are_reduced_to_the_language() -> None:
    assert [primary_language(tag) for tag in ("en-US", "EN_gb", "es", " ", None)] == ["en", "en", "es", None, None]


def test_detection_wins_over_the_declaration() -> None:
    assert article_language("es", "en") == "en"
    assert article_language("de-AT", None) == "de"
    assert article_language(None, None) is None
