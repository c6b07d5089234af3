"""Slack, Teams and Discord messages as their services take them: each rendered notice is POSTed to a local
receiver that checks the documented shape and limits (and refuses what the service would refuse)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.notifier.channels import CHAT_FORMATS, AlertNotice, DigestNotice, Notice, NoticeType
from tests.channel_receivers import ChatFormat, ChatReceiver
from tests.unit.notifier.channels.conftest import FIRED_AT, make_alert, make_digest

FORMATS: tuple[ChatFormat, ...] = ("slack", "teams", "discord")
ACCEPTED = {"slack": 200, "teams": 202, "discord": 204}
INJECTION = "<!channel> @everyone *Breaking* [click](https://evil.example.net) <script>alert(1)</script> &amp; `x`"


async def post(http: httpx.AsyncClient, receiver: ChatReceiver, notice: Notice) -> dict[str, Any]:
    """Render ``notice`` in the receiver's format, POST it, and return it once the receiver accepted it."""
    message = CHAT_FORMATS[receiver.format](notice)
    response = await http.post(receiver.url(), json=message)
    assert response.status_code == ACCEPTED[receiver.format], response.text
    assert receiver.accepted[-1] == message
    return message


def texts(message: Any) -> list[str]:
    """Every string in a message, wherever it sits."""
    if isinstance(message, str):
        return [message]
    if isinstance(message, dict):
        return [text for value in message.values() for text in texts(value)]
    if isinstance(message, list):
        return [text for value in message for text in texts(value)]
    return []


def everything(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


@pytest.mark.parametrize("kind", ["alert.fired", "alert.updated", "test"])
@pytest.mark.parametrize("name", FORMATS)
async def test_each_service_accepts_an_alert_an_update_and_a_test(
        name: ChatFormat, kind: NoticeType, receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    notice = AlertNotice(kind, make_alert(extra_sentences=2), outlets=10 if kind == "alert.updated" else 1,
                         update_sequence=2 if kind == "alert.updated" else 0,
                         update_reason="now 10 outlets" if kind == "alert.updated" else None)
    message = await post(http, receivers[name], notice)
    shown = everything(message)
    assert "Aid convoy reaches the border crossing" in shown
    assert "Border crossings" in shown and "news.example.org" in shown
    labels = {"alert.fired": "New alert", "alert.updated": "Update 2: now 10 outlets", "test": "Test message"}
    assert labels[kind] in shown
    assert "2 more sentences matched" in shown


async def test_slack_links_the_title_and_bolds_the_matched_words(
        receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    message = await post(http, receivers["slack"], AlertNotice("alert.fired", make_alert(), outlets=3))
    header, linked, quote, facts = message["blocks"][:4]
    assert header["text"]["text"] == "Aid convoy reaches the border crossing after a two-day wait"
    assert ("*<https://news.example.org/world/aid-convoy-border?ref=rss&amp;lang=en|Aid convoy reaches the border "
            "crossing after a two-day wait>*") in linked["text"]["text"]
    assert quote["text"]["text"] == (">Trucks carrying flour and medicine crossed at *Kerem Shalom* on Tuesday, the "
                                     "agency said, after talks between *Egypt* and Israel.")
    fields = [field["text"] for field in facts["fields"]]
    assert fields == ["*Rule*\nBorder crossings", "*Source*\nnews.example.org", "*Outlets so far*\n3 outlets",
                      "*First seen*\n2026-03-09 07:42 UTC"]
    assert message["text"] == ("New alert (Border crossings): Aid convoy reaches the border crossing after a "
                               "two-day wait")


async def test_teams_card_highlights_the_matched_words_and_opens_the_article(
        receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    message = await post(http, receivers["teams"], AlertNotice("alert.fired", make_alert(), outlets=3))
    card = message["attachments"][0]["content"]
    assert card["version"] == "1.4"
    runs = [run for block in card["body"] for run in block["inlines"]]
    assert [run["text"] for run in runs if run.get("highlight")] == ["Kerem Shalom", "Egypt"]
    [title] = [run for run in runs if "selectAction" in run]
    assert title["text"].startswith("Aid convoy") and title["selectAction"]["url"].endswith("ref=rss&lang=en")
    assert card["actions"] == [{"type": "Action.OpenUrl", "url": title["selectAction"]["url"], "title": "Open article"}]
    assert {"TextBlock"} & {block["type"] for block in card["body"]} == set(), "article text only in TextRuns"


async def test_discord_embed_links_bolds_and_pings_no_one(
        receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    message = await post(http, receivers["discord"], AlertNotice("alert.fired", make_alert(), outlets=3))
    [embed] = message["embeds"]
    assert embed["title"] == "Aid convoy reaches the border crossing after a two-day wait"
    assert embed["url"] == "https://news.example.org/world/aid-convoy-border?ref=rss&lang=en"
    assert "**Kerem Shalom**" in embed["description"] and "**Egypt**" in embed["description"]
    assert {field["name"]: field["value"] for field in embed["fields"]}["Outlets so far"] == "3 outlets"
    assert datetime.fromisoformat(embed["timestamp"]) == FIRED_AT
    assert message["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("name", FORMATS)
async def test_a_digest_lists_stories_newest_first_with_rules_outlets_and_first_seen(
        name: ChatFormat, receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    older = make_alert(title="Harbour reopens to fishing boats", story="harbour",
                       fired_at=FIRED_AT - timedelta(hours=2))
    newer = make_alert(title="Bridge repairs finish early", story="bridge", fired_at=FIRED_AT - timedelta(minutes=5))
    same_story = make_alert(title="Harbour reopens to fishing boats", story="harbour", rule_name="Ports",
                            fired_at=FIRED_AT - timedelta(hours=1))
    digest = DigestNotice("sub-1", FIRED_AT - timedelta(hours=3), FIRED_AT, (
        AlertNotice("alert.fired", newer, outlets=2),
        AlertNotice("alert.fired", same_story, outlets=5, first_seen=FIRED_AT - timedelta(hours=2)),
        AlertNotice("alert.fired", older, outlets=4, silence_id="silence-1"),
    ))
    shown = everything(await post(http, receivers[name], digest))
    assert "newsmon digest: 2 stories" in shown
    assert shown.index("Bridge repairs finish early") < shown.index("Harbour reopens to fishing boats")
    assert "Rules: Border crossings, Ports · 5 outlets · first seen 2026-03-09 05:42 UTC · silenced" in shown
    assert "Rule: Border crossings · 2 outlets · first seen 2026-03-09 07:37 UTC" in shown


def hostile_notices() -> dict[str, Notice]:
    long_sentence = "Filler words keep going here. " * 330 + "At the very end the Kerem Shalom crossing opened."
    return {
        "10,000-char title": AlertNotice("alert.fired", make_alert(title="Very long headline " * 527)),
        "10,000 emoji": AlertNotice("alert.fired", make_alert(title="\U0001F4F0" * 10_000,
                                                              rule_name="\U0001F6A8" * 5000)),
        "match at the end of a 10,000-char sentence": AlertNotice("alert.fired", make_alert(sentence=long_sentence)),
        "control characters": AlertNotice("alert.updated", make_alert(
            title="Line one\nLine two\r\x00\x07\x1b[31m red \u202e reversed \u200b", source="bad\x00source\n"),
            update_sequence=1, update_reason="now\n3 outlets\x00"),
        "markup injection": AlertNotice("alert.fired", make_alert(title=INJECTION, rule_name=INJECTION,
                                                                  source=INJECTION, sentence=INJECTION + " in Egypt")),
        "javascript URL": AlertNotice("alert.fired", make_alert(url="javascript:alert(document.cookie)")),
        "10,000-char URL": AlertNotice("alert.fired", make_alert(url="https://news.example.org/" + "a" * 10_000)),
        "500-story digest": make_digest(500),
        "500 stories with 10,000-char titles": make_digest(500, title="{n} " + "Long digest headline " * 476),
    }


HOSTILE = hostile_notices()


@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("name", FORMATS)
async def test_hostile_notices_are_shortened_never_refused(
        name: ChatFormat, case: str, receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    shown = everything(await post(http, receivers[name], HOSTILE[case]))
    assert not any(char in shown for char in "\x00\x07\x1b\r\u202e\u200b")
    if case == "match at the end of a 10,000-char sentence":
        assert "Kerem Shalom" in shown, "the window keeps the match"
    if case in ("javascript URL", "10,000-char URL"):
        assert "javascript:" not in shown and "a" * 2100 not in shown
    if case == "10,000-char title":
        assert "Very long headline Very long" in shown and "…" in shown


@pytest.mark.parametrize("name", FORMATS)
async def test_a_digest_too_long_for_one_message_says_how_many_stories_it_left_out(
        name: ChatFormat, receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    shown = everything(await post(http, receivers[name], make_digest(500)))
    listed = sum(f"Story number {n} about" in shown for n in range(500))
    assert 0 < listed < 500
    assert f"and {500 - listed} more stories" in shown
    assert "Story number 0 about" in shown, "the newest story is kept"


async def test_markup_in_a_title_makes_no_link_mention_or_emphasis(
        receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    notice = HOSTILE["markup injection"]
    slack = await post(http, receivers["slack"], notice)
    assert "&lt;!channel&gt;" in slack["blocks"][1]["text"]["text"]  # the receiver refused any bare '<'
    discord = await post(http, receivers["discord"], notice)
    title = discord["embeds"][0]["title"]
    assert "\\[click\\]\\(https://evil.example.net\\)" in title and "\\*Breaking\\*" in title and "\\<" in title
    teams = await post(http, receivers["teams"], notice)
    assert "evil.example.net" not in json.dumps([block.get("selectAction") for block in texts_with_actions(teams)])


def texts_with_actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    card = message["attachments"][0]["content"]
    return [run for block in card["body"] for run in block.get("inlines", [])] + card.get("actions", [])


@pytest.mark.parametrize("name", FORMATS)
async def test_a_throttled_service_answers_429_with_retry_after_once(
        name: ChatFormat, receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    receiver = receivers[name]
    receiver.throttle_once(2)
    message = CHAT_FORMATS[name](AlertNotice("alert.fired", make_alert()))
    first = await http.post(receiver.url(), json=message)
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    second = await http.post(receiver.url(), json=message)
    assert second.status_code == ACCEPTED[name]


async def test_the_receivers_refuse_what_the_services_refuse(
        receivers: dict[ChatFormat, ChatReceiver], http: httpx.AsyncClient) -> None:
    too_many = {"text": "x", "blocks": [{"type": "divider"}] * 51}
    unescaped = {"text": "hello <!channel>"}
    long_title = {"embeds": [{"title": "x" * 257}]}
    too_much = {"embeds": [{"description": "x" * 4000}, {"description": "x" * 2001}]}
    big_card = CHAT_FORMATS["teams"](AlertNotice("alert.fired", make_alert()))
    big_card["attachments"][0]["content"]["body"].append(
        {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "x" * 30_000}]})
    for name, body, status, reason in (("slack", too_many, 400, "more than 50 blocks"),
                                       ("slack", unescaped, 400, "unescaped control character"),
                                       ("discord", long_title, 400, "more than 256"),
                                       ("discord", too_much, 400, "more than 6000"),
                                       ("teams", big_card, 413, "request entity too large")):
        response = await http.post(receivers[name].url(), json=body)
        assert (response.status_code, reason in response.text) == (status, True), (name, response.text)
