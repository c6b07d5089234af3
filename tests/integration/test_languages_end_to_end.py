"""News in other languages on the running stack: French through the French pipeline and the event
rule, Spanish, German and Arabic through their own tokenizers and the watched names; the same
canonical names on articles.enriched whatever the language, and no alert for Rafa Nadal."""

from __future__ import annotations

import uuid
from typing import Any

from newsmon.stack import Stack
from shared.schemas import UniqueArticle
from tests.integration.conftest import produce, read_json_topic
from tests.integration.receiver import Receiver
from tests.waiting import wait_until

ARTICLES = {
    "fr-sanctions": ("fr", "L'Union européenne a adopté lundi de nouvelles sanctions contre l'Iran, accusé de "
                           "livrer des drones à la Russie. Les Vingt-Sept visent aussi des responsables des "
                           "Gardiens de la révolution."),
    "fr-rafah": ("fr", "Des camions d'aide humanitaire attendaient mardi au point de passage de Rafah, dans le "
                       "sud de la bande de Gaza. L'Iran a dénoncé l'offensive."),
    "es-rafah": ("es", "Miles de familias huyeron de Rafah el martes tras una noche de bombardeos. El gobierno "
                       "de Irán condenó la operación en la Franja de Gaza."),
    "de-rafah": ("de", "Israelische Truppen sind am Dienstag weiter in Rafah vorgerückt. Die Regierung in "
                       "Teheran und Irans Außenminister verurteilten den Einsatz im Gazastreifen."),
    "ar-rafah": ("ar", "وفي رفح، قال مسؤولون محليون إن الغارات استمرت طوال الليل. وأدانت إيران العملية "
                       "العسكرية في قطاع غزة."),
}
TENNIS = ("es", "Rafa Nadal se impuso en tres sets y avanzó a los cuartos de final del torneo de Madrid. "
                "El balear dijo que Rafa Nadal Academy seguirá formando jugadores en Manacor.")


def unique(article_id: str, language: str, text: str) -> bytes:
    return UniqueArticle(article_id=article_id, title="", text=text, source="tests", language=language,
                         story_id=article_id, content_hash=article_id).model_dump_json().encode()


def alerts(receiver: Receiver, article_id: str) -> list[str]:
    return sorted(hit.json["rule_id"] for hit in receiver.snapshot() if hit.json["article_id"] == article_id)


def test_french_spanish_german_and_arabic_news_fire_the_shipped_rules_with_one_set_of_names(
    stack: Stack, receiver: Receiver
) -> None:
    tag = uuid.uuid4().hex[:10]
    ids = {name: f"{name}-{tag}" for name in [*ARTICLES, "es-tennis"]}
    # The tennis story goes first under the Spanish Rafah story's key: one partition, read in order, so
    # when the Rafah alert has arrived the tennis story has been evaluated.
    produce(stack.settings, "articles.unique", [
        (ids["es-rafah"].encode(), unique(ids["es-tennis"], *TENNIS)),
        *((ids[name].encode(), unique(ids[name], language, text)) for name, (language, text) in ARTICLES.items()),
    ])

    def enriched() -> dict[str, dict[str, Any]] | None:
        found = {message["article_id"]: message for message in read_json_topic(stack.settings, "articles.enriched")
                 if message.get("article_id") in ids.values()}
        return found if len(found) == len(ids) else None

    found = wait_until(enriched, 180, "every article on articles.enriched")
    for name, (language, _) in ARTICLES.items():
        message = found[ids[name]]
        assert message["language"] == language
        assert message["ner_mode"] == ("full" if language == "fr" else "patterns_only"), name
        names = {entity["name"] for entity in message["entities"]}
        assert {"Iran"} <= names and ("Rafah" in names or name == "fr-sanctions"), (name, names)
        assert "Gaza Strip" in names or name == "fr-sanctions", (name, names)
    assert "Rafah" not in {entity["name"] for entity in found[ids["es-tennis"]]["entities"]}

    wait_until(lambda: alerts(receiver, ids["fr-sanctions"]) == ["iran-sanctions"], 120,
               "the iran-sanctions alert on the French article")
    [alert] = [hit.json for hit in receiver.snapshot() if hit.json["article_id"] == ids["fr-sanctions"]]
    [event] = alert["events"]
    assert (event["object"]["text"], event["target"]["text"]) == ("sanctions", "l'Iran")
    for name in ("fr-rafah", "es-rafah", "de-rafah", "ar-rafah"):
        wait_until(lambda name=name: alerts(receiver, ids[name]) == ["rafah"], 120, f"the rafah alert on {name}")
    assert alerts(receiver, ids["es-tennis"]) == [], "Rafa Nadal is not Rafah"
