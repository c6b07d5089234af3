"""What every channel says about a notice, before any format's markup: the same words in Slack, Teams,
Discord and email.

``alert_text`` and ``digest_text`` gather those words once per notice (label, title, link, the
sentence, the facts shown beside it; a digest's heading, period and stories), so a channel module
holds only its markup and its service's limits.

The sentence that fired is split into plain and matched segments from ``MatchedSentence.matches``
(offsets into the article text, as the alerter writes them), and a long sentence is cut to a window
around its first match, so the reader always sees why the rule fired. A digest lists stories, not
alerts: alerts of several rules on one story are one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.channels.shortening import ELLIPSIS, one_line, shorten
from shared.schemas import Alert, MatchedSentence

# Raw characters of a sentence kept before its first match when it has to be cut.
_LEAD_CHARS = 60
# Longer URLs are not linked: browsers and chat apps handle about this much, and no article needs more.
MAX_URL_CHARS = 2000
# A digest entry names its rules in at most this much.
_RULES_CHARS = 300


@dataclass(frozen=True)
class Segment:
    """A piece of the sentence that fired; ``matched`` when it is a word the rule matched."""

    text: str
    matched: bool = False


@dataclass(frozen=True)
class AlertText:
    """The words of one alert, update or test message, on one line each, not yet escaped or shortened."""

    label: str
    """``notice_label``: "New alert", "Update 2: now 10 outlets", "Test message"."""
    title: str
    """The article's title, or "(untitled)"."""
    rule: str
    url: str | None
    """``article_url``: a link a reader may click, or None."""
    sentence: list[Segment]
    """The first sentence that fired, as segments, whole (each channel cuts it with ``excerpt``)."""
    footnote: str | None
    """``more_sentences``: "2 more sentences matched", or None."""
    facts: tuple[tuple[str, str], ...]
    """(name, value) shown beside the sentence: rule, source, outlets so far, first seen."""
    ids: str
    """"newsmon · alert <id> · story <id>", for the small print."""

    @property
    def summary(self) -> str:
        """"New alert (Rafah): <title>": the one line a notification or a fallback shows."""
        return f"{self.label} ({self.rule}): {self.title}"


def alert_text(notice: AlertNotice) -> AlertText:
    """What every channel says about ``notice``."""
    alert = notice.alert
    rule = one_line(alert.rule_name)
    facts = (("Rule", rule), ("Source", one_line(alert.source)), ("Outlets so far", outlets_text(notice.outlets)),
             ("First seen", when(first_seen(notice))))
    return AlertText(label=notice_label(notice), title=one_line(alert.title) or "(untitled)", rule=rule,
                     url=article_url(alert), sentence=fired_sentence(alert), footnote=more_sentences(alert),
                     facts=facts, ids=f"newsmon · alert {alert.alert_id} · story {alert.story_id}")


def emphasized(text: str, mark: str) -> str:
    """``text`` between ``mark``s (``*`` or ``**``), the spaces around it left outside: markdown bold needs the
    marks against the word. Blank text stays as it is."""
    core = text.strip()
    if not core:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return f"{lead}{mark}{core}{mark}{trail}"


def article_url(alert: Alert) -> str | None:
    """The article's link when it is an http(s) URL a reader may click; anything else is not linked."""
    if not alert.url:
        return None
    url = one_line(alert.url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    usable = parts.scheme.lower() in ("http", "https") and parts.netloc and " " not in url
    return url if usable and len(url) <= MAX_URL_CHARS else None


def sentence_segments(sentence: MatchedSentence) -> list[Segment]:
    """The sentence as plain and matched segments, on one line; offsets that do not fall inside the
    sentence are ignored rather than trusted."""
    text = sentence.text
    spans = sorted((start - sentence.start, end - sentence.start) for start, end in sentence.matches)
    segments: list[Segment] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if start >= end or end > len(text):
            continue
        segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], matched=True))
        position = end
    segments.append(Segment(text[position:]))
    cleaned = [Segment(_inline(segment.text), segment.matched) for segment in segments]
    return _strip_ends([segment for segment in cleaned if segment.text])


def excerpt(segments: list[Segment], budget: int) -> list[Segment]:
    """At most ``budget`` characters of the segments (plus ellipses): a window that starts a little
    before the first match, so a match deep in a long sentence stays visible."""
    total = sum(len(segment.text) for segment in segments)
    if total <= budget:
        return segments
    first_match = 0
    for segment in segments:
        if segment.matched:
            break
        first_match += len(segment.text)
    else:
        first_match = 0
    start = max(0, min(first_match - _LEAD_CHARS, total - budget))
    window = _cut(segments, start, start + budget)
    if start > 0:
        window.insert(0, Segment(ELLIPSIS))
    if start + budget < total:
        window.append(Segment(ELLIPSIS))
    return window


def fired_sentence(alert: Alert) -> list[Segment]:
    """The first sentence that fired, as segments (empty when the alert carries none)."""
    return sentence_segments(alert.sentences[0]) if alert.sentences else []


def more_sentences(alert: Alert) -> str | None:
    """"2 more sentences matched" when the rule fired on more than the one shown."""
    extra = len(alert.sentences) - 1
    if extra <= 0:
        return None
    return f"{extra} more sentence{'s' if extra > 1 else ''} matched"


def notice_label(notice: AlertNotice) -> str:
    """What kind of message this is, for a reader: "New alert", "Update 2: now 10 outlets", "Test message"."""
    if notice.type == "test":
        return "Test message"
    if notice.type == "alert.updated":
        reason = one_line(notice.update_reason or "")
        return f"Update {notice.update_sequence}" + (f": {reason}" if reason else "")
    return "New alert"


def first_seen(notice: AlertNotice) -> datetime:
    """When the story first alerted: given by the dispatcher, else the alert's own time."""
    return notice.first_seen or notice.alert.fired_at


def when(moment: datetime) -> str:
    """A time as every channel shows it: UTC, to the minute."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%d %H:%M UTC")


def outlets_text(outlets: int) -> str:
    """"1 outlet", "10 outlets"."""
    return f"{outlets} outlet{'s' if outlets != 1 else ''}"


@dataclass(frozen=True)
class DigestStory:
    """One story of a digest, with every rule that alerted on it in the period."""

    story_id: str
    title: str
    url: str | None
    rules: tuple[str, ...]
    outlets: int
    first_seen: datetime
    latest: datetime
    silenced: bool

    @property
    def details(self) -> str:
        """"Rules: a, b · 3 outlets · first seen 2026-12-07 08:00 UTC · silenced"."""
        rules = shorten(", ".join(self.rules), _RULES_CHARS)
        parts = [f"Rule{'s' if len(self.rules) > 1 else ''}: {rules}", outlets_text(self.outlets),
                 f"first seen {when(self.first_seen)}"]
        if self.silenced:
            parts.append("silenced")
        return " · ".join(parts)


def digest_stories(digest: DigestNotice) -> list[DigestStory]:
    """The digest's stories, newest first (by their latest alert)."""
    grouped: dict[str, list[AlertNotice]] = {}
    for item in digest.items:
        grouped.setdefault(item.alert.story_id, []).append(item)
    stories = [_story(items) for items in grouped.values()]
    return sorted(stories, key=lambda story: story.latest, reverse=True)


@dataclass(frozen=True)
class DigestText:
    """The words of one digest: its heading, its period and its stories, newest first."""

    heading: str
    period: str
    stories: list[DigestStory]


def digest_text(digest: DigestNotice) -> DigestText:
    """What every channel says about ``digest``."""
    stories = digest_stories(digest)
    return DigestText(digest_heading(len(stories)), digest_period(digest), stories)


def digest_heading(story_count: int) -> str:
    """"newsmon digest: 3 stories"."""
    return f"newsmon digest: {story_count} stor{'ies' if story_count != 1 else 'y'}"


def digest_period(digest: DigestNotice) -> str:
    """"2026-12-07 07:00 UTC to 2026-12-07 08:00 UTC"."""
    return f"{when(digest.period_start)} to {when(digest.period_end)}"


def more_stories(count: int) -> str:
    """"and 3 more stories", for what a limit left out of a digest."""
    return f"and {count} more stor{'ies' if count != 1 else 'y'}"


def _story(items: list[AlertNotice]) -> DigestStory:
    newest = max(items, key=lambda item: item.alert.fired_at)
    # Rules in the order they first fired on the story.
    by_time = sorted(items, key=lambda item: item.alert.fired_at)
    rules = tuple(dict.fromkeys(one_line(item.alert.rule_name) for item in by_time))
    return DigestStory(
        story_id=newest.alert.story_id,
        title=one_line(newest.alert.title) or "(untitled)",
        url=article_url(newest.alert),
        rules=rules,
        outlets=max(item.outlets for item in items),
        first_seen=min(first_seen(item) for item in items),
        latest=newest.alert.fired_at,
        silenced=any(item.silence_id is not None for item in items),
    )


def _inline(text: str) -> str:
    """A segment on one line: whitespace runs become one space, but the spaces at its ends stay."""
    cleaned = one_line(text)
    if not cleaned:
        return " " if text[:1].isspace() or text[-1:].isspace() else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + cleaned + trail


def _strip_ends(segments: list[Segment]) -> list[Segment]:
    if segments:
        segments[0] = Segment(segments[0].text.lstrip(), segments[0].matched)
        segments[-1] = Segment(segments[-1].text.rstrip(), segments[-1].matched)
    return [segment for segment in segments if segment.text]


def _cut(segments: list[Segment], start: int, end: int) -> list[Segment]:
    window: list[Segment] = []
    position = 0
    for segment in segments:
        piece_start, piece_end = max(start, position), min(end, position + len(segment.text))
        if piece_start < piece_end:
            window.append(Segment(segment.text[piece_start - position:piece_end - position], segment.matched))
        position += len(segment.text)
    return window
