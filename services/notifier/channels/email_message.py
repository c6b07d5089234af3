"""Email: one ``multipart/alternative`` message per alert, update, test or digest (plain text and HTML).

Built with the standard ``email`` package, which folds and encodes headers and picks each part's
transfer encoding, and refuses a header value with a line break, so no title can add a header.
Every text from an article is HTML-escaped in the HTML part and no link is made from anything but an
http(s) article URL. The ``Message-ID`` is derived from the alert id and update sequence (or the
digest's subscription and period), so a resend after a crash is recognisably the same message, and an
update names its alert's message in ``In-Reply-To``/``References`` so mail clients thread them.
``List-Unsubscribe`` is set on every message (RFC 2369); with an https URL it also carries
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), which large mailbox providers expect
from bulk senders.
"""

from __future__ import annotations

import hashlib
import html
import re
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import quote, urlsplit

from services.notifier.channels.content import DigestStory, Segment, alert_text, digest_text, excerpt, more_stories
from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice
from services.notifier.channels.shortening import one_line, shorten
from shared.schemas import utcnow

SUBJECT_CHARS = 200
TITLE_CHARS = 1000
DIGEST_TITLE_CHARS = 300
SENTENCE_CHARS = 2000
DIGEST_STORIES = 200
# Header lines up to RFC 5322's 998 characters, so a long message id in In-Reply-To stays one plain token
# instead of being folded into encoded words that mail clients would not match.
_POLICY = policy.default.clone(max_line_length=998)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DOMAIN_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")
# Characters kept as they are in an unsubscribe URL; anything else (spaces, <, >, controls) is encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~._-"


def email_message(notice: Notice, *, sender: str, recipient: str, unsubscribe: str) -> EmailMessage:
    """The email for one notice from ``sender`` to ``recipient``, with ``unsubscribe`` (an https or
    mailto URL) in ``List-Unsubscribe``; a sender or recipient with a line break raises ``ValueError``."""
    domain = _domain(sender)
    target = quote(one_line(unsubscribe), safe=_URL_SAFE)
    message = EmailMessage(policy=_POLICY)
    if isinstance(notice, DigestNotice):
        subject, text, body = _digest(notice, target)
        message_id = f"<digest.{_digest_key(notice)}@{domain}>"
    else:
        subject, text, body = _alert(notice, target)
        message_id = alert_message_id(notice, domain)
        if notice.type == "alert.updated":
            original = alert_message_id(AlertNotice("alert.fired", notice.alert), domain)
            message["In-Reply-To"] = original
            message["References"] = original
    message["Subject"] = shorten(one_line(subject), SUBJECT_CHARS)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{target}>"
    if urlsplit(target).scheme.lower() == "https":
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(body, subtype="html")
    return message


def alert_message_id(notice: AlertNotice, domain: str) -> str:
    """``<alert.ID@domain>``, ``<alert.ID.update2@domain>`` or ``<test.ID@domain>``: the same for a resend."""
    alert_id = _ID_UNSAFE.sub("-", notice.alert.alert_id)[:100] or "none"
    if notice.type == "test":
        return f"<test.{alert_id}@{domain}>"
    if notice.type == "alert.updated":
        return f"<alert.{alert_id}.update{notice.update_sequence}@{domain}>"
    return f"<alert.{alert_id}@{domain}>"


def _alert(notice: AlertNotice, unsubscribe: str) -> tuple[str, str, str]:
    words = alert_text(notice)
    title = shorten(words.title, TITLE_CHARS)
    segments = excerpt(words.sentence, SENTENCE_CHARS)

    text_lines = [f"{words.label} · {words.rule}", "", title] + ([words.url] if words.url else [])
    text_lines += ["", "“" + "".join(f"*{s.text}*" if s.matched else s.text for s in segments) + "”"]
    text_lines += [words.footnote] if words.footnote else []
    text_lines += [""] + [f"{name}: {value}" for name, value in words.facts]
    text_lines += ["", words.ids, f"Unsubscribe: {unsubscribe}"]

    heading = _html_link(title, words.url)
    rows = "".join(f"<tr><th align=\"left\">{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in words.facts)
    body = (f"<p><strong>{_e(words.label)}</strong> · {_e(words.rule)}</p><h2>{heading}</h2>"
            f"<blockquote>{_html_sentence(segments)}</blockquote>"
            + (f"<p><em>{_e(words.footnote)}</em></p>" if words.footnote else "")
            + f"<table>{rows}</table><p><small>{_e(words.ids)}</small></p>{_html_unsubscribe(unsubscribe)}")
    subject = f"[newsmon] {words.label}: {title}" if notice.type != "test" else f"[newsmon] Test message: {title}"
    return subject, "\n".join(text_lines) + "\n", _html_page(body)


def _digest(digest: DigestNotice, unsubscribe: str) -> tuple[str, str, str]:
    words = digest_text(digest)
    shown = words.stories[:DIGEST_STORIES]
    more = more_stories(len(words.stories) - len(shown)) if len(words.stories) > len(shown) else None

    text_lines = [words.heading, words.period, ""]
    for story in shown:
        text_lines += [_story_title(story)] + ([story.url] if story.url else []) + [story.details, ""]
    text_lines += ([more, ""] if more else []) + [f"Unsubscribe: {unsubscribe}"]

    items = "".join(f"<li><strong>{_html_link(_story_title(story), story.url)}</strong><br>{_e(story.details)}</li>"
                    for story in shown)
    body = (f"<h2>{_e(words.heading)}</h2><p>{_e(words.period)}</p><ol>{items}</ol>"
            + (f"<p><em>{_e(more)}</em></p>" if more else "") + _html_unsubscribe(unsubscribe))
    return f"[newsmon] {words.heading} ({words.period})", "\n".join(text_lines) + "\n", _html_page(body)


def _story_title(story: DigestStory) -> str:
    return shorten(story.title, DIGEST_TITLE_CHARS)


def _digest_key(digest: DigestNotice) -> str:
    subscription = hashlib.sha256(digest.subscription_id.encode()).hexdigest()[:16]
    return f"{subscription}.{int(digest.period_start.timestamp())}-{int(digest.period_end.timestamp())}"


def _domain(sender: str) -> str:
    domain = _DOMAIN_UNSAFE.sub("", parseaddr(sender)[1].rpartition("@")[2]).strip(".")
    return domain or "newsmon.invalid"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_link(text: str, url: str | None) -> str:
    return f"<a href=\"{_e(url)}\">{_e(text)}</a>" if url else _e(text)


def _html_sentence(segments: list[Segment]) -> str:
    if not segments:
        return "<em>(no sentence recorded)</em>"
    return "".join(f"<strong>{_e(s.text)}</strong>" if s.matched else _e(s.text) for s in segments)


def _html_unsubscribe(target: str) -> str:
    if urlsplit(target).scheme.lower() not in ("https", "http", "mailto"):
        return ""
    return f"<p><small><a href=\"{_e(target)}\">Unsubscribe</a></small></p>"


def _html_page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{body}</body></html>\n"
