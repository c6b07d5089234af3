"""Alert, update and digest emails as a mail server receives them: each is sent through a real SMTP server on
loopback and read back as MIME, as a mail client would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest

from services.notifier.channels import AlertNotice, DigestNotice, Notice, SmtpSettings, email_message, send_email
from tests.smtp_server import ReceivedMail, SmtpServer
from tests.unit.notifier.channels.conftest import FIRED_AT, make_alert, make_digest

SENDER = "newsmon <alerts@newsmon.example.org>"
RECIPIENT = "desk@example.org"
UNSUBSCRIBE = "https://newsmon.example.org/api/subscriptions/sub-7/unsubscribe?token=abc"


@pytest.fixture(scope="module")
def mail_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


async def deliver(server: SmtpServer, notice: Notice, unsubscribe: str = UNSUBSCRIBE) -> ReceivedMail:
    """Render, send in plain SMTP, and return the message as the server parsed it."""
    before = len(server.received())
    message = email_message(notice, sender=SENDER, recipient=RECIPIENT, unsubscribe=unsubscribe)
    smtp = SmtpSettings(host="127.0.0.1", port=server.port, tls="none", sender="alerts@newsmon.example.org")
    await send_email(message, smtp, timeout_s=10)
    [received] = server.received()[before:]
    return received


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


async def test_an_alert_email_has_both_parts_the_marked_sentence_and_the_list_headers(mail_server: SmtpServer) -> None:
    received = await deliver(mail_server, AlertNotice("alert.fired", make_alert(), outlets=3))
    message = received.message
    assert (received.sender, received.recipients) == ("alerts@newsmon.example.org", [RECIPIENT])
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "[newsmon] New alert: Aid convoy reaches the border crossing after a two-day wait"
    assert (message["From"], message["To"]) == (SENDER, RECIPIENT)
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"] == f"<alert.{make_alert().alert_id}@newsmon.example.org>"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert "crossed at *Kerem Shalom* on Tuesday" in text and "between *Egypt* and Israel" in text
    assert "https://news.example.org/world/aid-convoy-border?ref=rss&lang=en" in text
    assert "Outlets so far: 3 outlets" in text and "Rule: Border crossings" in text
    assert "<strong>Kerem Shalom</strong>" in html and "<strong>Egypt</strong>" in html
    assert '<a href="https://news.example.org/world/aid-convoy-border?ref=rss&amp;lang=en">Aid convoy' in html


async def test_a_resend_has_the_same_message_id_and_an_update_threads_under_its_alert(
        mail_server: SmtpServer) -> None:
    alert = make_alert()
    first = await deliver(mail_server, AlertNotice("alert.fired", alert))
    again = await deliver(mail_server, AlertNotice("alert.fired", alert))
    update = await deliver(mail_server, AlertNotice("alert.updated", alert, outlets=10, update_sequence=1,
                                                    update_reason="now 10 outlets"))
    second_update = await deliver(mail_server, AlertNotice("alert.updated", alert, update_sequence=2))
    assert first.message["Message-ID"] == again.message["Message-ID"]
    assert len({first.message["Message-ID"], update.message["Message-ID"], second_update.message["Message-ID"]}) == 3
    assert update.message["In-Reply-To"] == update.message["References"] == first.message["Message-ID"]
    assert update.message["Subject"].startswith("[newsmon] Update 1: now 10 outlets: Aid convoy")


async def test_a_digest_email_lists_stories_newest_first_and_keeps_its_id_per_period(mail_server: SmtpServer) -> None:
    digest = make_digest(3)
    received = await deliver(mail_server, digest)
    again = await deliver(mail_server, digest)
    later = DigestNotice(digest.subscription_id, digest.period_end, digest.period_end + timedelta(hours=1),
                         digest.items)
    assert received.message["Message-ID"] == again.message["Message-ID"]
    assert (await deliver(mail_server, later)).message["Message-ID"] != received.message["Message-ID"]
    assert received.message["Subject"] == ("[newsmon] newsmon digest: 3 stories (2026-03-09 06:42 UTC to "
                                           "2026-03-09 07:42 UTC)")
    text, html = parts(received.message)
    assert text.index("Story number 0 ") < text.index("Story number 1 ") < text.index("Story number 2 ")
    assert "Rule: Border crossings · 2 outlets · first seen 2026-03-09 07:41 UTC" in text
    assert html.count("<li>") == 3


async def test_a_mailto_unsubscribe_has_no_one_click_header(mail_server: SmtpServer) -> None:
    received = await deliver(mail_server, AlertNotice("test", make_alert()),
                             unsubscribe="mailto:unsubscribe@newsmon.example.org?subject=sub-7")
    assert received.message["List-Unsubscribe"] == "<mailto:unsubscribe@newsmon.example.org?subject=sub-7>"
    assert received.message["List-Unsubscribe-Post"] is None
    assert received.message["Subject"].startswith("[newsmon] Test message: ")


async def test_hostile_titles_are_escaped_in_html_and_cannot_add_headers(mail_server: SmtpServer) -> None:
    title = "Hi\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script><a href='javascript:x'>click</a> & more"
    notice = AlertNotice("alert.fired", make_alert(title=title, rule_name="<b>rule</b>", source="<img src=x>",
                                                   url="javascript:alert(1)", sentence=title + " in Egypt"))
    received = await deliver(mail_server, notice)
    message = received.message
    assert message["Bcc"] is None and received.recipients == [RECIPIENT]
    assert "\n" not in message["Subject"] and "<script>" in message["Subject"]  # the subject is plain text
    _, html = parts(message)
    tags = Tags()
    tags.feed(html)
    assert tags.names <= {"html", "head", "meta", "body", "p", "strong", "h2", "blockquote", "table", "tr", "th", "td",
                          "small", "a"}
    assert tags.links == [UNSUBSCRIBE], "no link but the unsubscribe one: the article URL was not http(s)"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp; more" in html


class Tags(HTMLParser):
    """The element names and link targets of an HTML part, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.links += [value for name, value in attrs if name == "href"]


async def test_huge_alerts_and_digests_are_shortened(mail_server: SmtpServer) -> None:
    long_title = await deliver(mail_server, AlertNotice("alert.fired", make_alert(title="Harbour news " * 800)))
    assert len(long_title.message["Subject"]) <= 200 and long_title.message["Subject"].endswith("…")
    digest = await deliver(mail_server, make_digest(500))
    text, html = parts(digest.message)
    assert "and 300 more stories" in text and html.count("<li>") == 200
    assert "Story number 0 " in text and "Story number 499 " not in text


def test_a_recipient_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError):
        email_message(AlertNotice("alert.fired", make_alert()), sender=SENDER,
                      recipient="desk@example.org\r\nBcc: other@example.org", unsubscribe=UNSUBSCRIBE)


def test_the_date_of_a_digest_period_is_utc_in_its_subject() -> None:
    digest = make_digest(1)
    message = email_message(digest, sender=SENDER, recipient=RECIPIENT, unsubscribe=UNSUBSCRIBE)
    assert f"{FIRED_AT:%Y-%m-%d %H:%M} UTC" in message["Subject"]
