"""Syndicated copies of an article as other outlets print them, for the story-id tests.

A copy gets a new headline, loses one paragraph and gains the outlet's own header and footer,
which is what wire copy looks like on a second site.
"""

from __future__ import annotations

from shared.article_ids import article_id_for_content
from shared.schemas import RawArticle

HEADER = "Skip to content\nThe Evening Courier | World\nBy Courier staff and agencies\nPublished 2 hours ago"
FOOTER = ("Follow The Evening Courier on social media for more world news.\n"
          "Additional reporting by our foreign desk.\n© 2024 The Evening Courier. All rights reserved.")


def syndicated_copy(original: RawArticle, headline: str, outlet: str = "courier.example") -> RawArticle:
    """The original with ``headline`` instead of its own, its middle long paragraph cut, and the outlet's chrome."""
    lines = [line.strip() for line in original.text.splitlines()]
    paragraphs = [line for line in lines if line and line != original.title]
    long_ones = [index for index, paragraph in enumerate(paragraphs) if len(paragraph.split()) >= 20]
    del paragraphs[long_ones[len(long_ones) // 2]]
    text = "\n\n".join([HEADER, headline, *paragraphs, FOOTER])
    return RawArticle(article_id=article_id_for_content(text), title=headline, text=text, source=f"https://{outlet}/feed",
                      url=f"https://{outlet}/world/{article_id_for_content(text)[:8]}")
