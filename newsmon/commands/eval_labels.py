"""The labelled articles ``newsmon rules eval`` reads: a labels file with texts, or references plus a texts folder.

Two layouts, one per line of JSON:

- a **labels file** (``tests/unit/alerter/labelled/rules.jsonl``): each line carries its ``text`` and the
  ids of the rules it must fire (``rules``);
- **references** (``tests/real_reporting/references.jsonl``) with ``--texts DIR``: each line names a page
  (``id``, ``query``, ``url``) and says per rule whether it must fire (``labels``), with a ``category``, a
  one-line ``reason`` and an optional ``story``; the page's text is ``DIR/<id>.txt``, its first line the
  title. References keep others' sentences out of a repository: the texts are rebuilt from the
  references (see ``tests/real_reporting/README.md``).

Both become ``LabelLine``; every problem is a ``LabelFileError`` naming the file, the line and the field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.schemas import RawArticle, describe_validation_error


class LabelFileError(ValueError):
    """A labels file that cannot be used; the message names the file, the line and the field."""


class LabelLine(BaseModel):
    """One labelled article."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    rules: list[str] = Field(description="Ids of the rules this article must fire; [] for none.")
    title: str = ""
    kind: str = ""
    published_at: datetime | None = None
    language: str | None = Field(default=None, description="The language the article's source declares.")
    sentence: str | None = Field(default=None, description="The sentence that must fire, shown when it does not.")
    reason: str = Field(default="", description="Why the label is what it is, in one line; shown with a miss.")
    story: str | None = Field(default=None, description="Pages that report one event share a story key.")

    def article(self, origin: str) -> RawArticle:
        return RawArticle(article_id=self.id, text=self.text, title=self.title, source=f"labels:{origin}",
                          published_at=self.published_at, language=self.language)

    @property
    def story_key(self) -> str:
        """The story this article belongs to: its ``story``, or itself alone."""
        return self.story or self.id


class Reference(BaseModel):
    """One page of a references file: where to find it again and what it must fire, without its text."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    query: str = Field(min_length=1)
    url: str = Field(min_length=1)
    title: str = ""
    labels: dict[str, bool] = Field(min_length=1, description="Per rule id, whether the page must fire it.")
    category: str = ""
    reason: str = ""
    story: str | None = None
    published_at: datetime | None = None


def read_labels(path: Path, rule_ids: set[str], texts: Path | None = None) -> list[LabelLine]:
    """The labelled articles of ``path`` (references read with their texts from ``texts`` when given); a bad
    line, a repeated id, an unknown rule or a missing text raises ``LabelFileError``."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as error:
        raise LabelFileError(f"{path}: cannot read labels file: {error.strerror}") from error
    labelled: list[LabelLine] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        item = _read_line(line, where, texts)
        if item.id in seen:
            raise LabelFileError(f"{where}: id {item.id!r} is used twice")
        unknown = sorted(set(item.rules) - rule_ids)
        if unknown:
            field = "labels" if texts is not None else "rules"
            raise LabelFileError(f"{where}: field {field}: no rule {unknown[0]!r} in the rules evaluated "
                                 f"(known: {', '.join(sorted(rule_ids))})")
        seen.add(item.id)
        labelled.append(item)
    if not labelled:
        raise LabelFileError(f"{path}: no labelled articles")
    return labelled


def _read_line(line: str, where: str, texts: Path | None) -> LabelLine:
    try:
        if texts is None:
            return LabelLine.model_validate_json(line)
        reference = Reference.model_validate_json(line)
    except ValidationError as error:
        raise LabelFileError(f"{where}: {describe_validation_error(error)}") from error
    text_path = texts / f"{reference.id}.txt"
    try:
        text = text_path.read_text("utf-8")
    except OSError as error:
        raise LabelFileError(f"{where}: no text for {reference.id!r}: cannot read {text_path}: "
                             f"{error.strerror} (rebuild the texts: tests/real_reporting/README.md)") from error
    if not text.strip():
        raise LabelFileError(f"{where}: the text of {reference.id!r} ({text_path}) is empty")
    title = reference.title or text.strip().splitlines()[0].strip()
    return LabelLine(id=reference.id, text=text, title=title, kind=reference.category, reason=reference.reason,
                     story=reference.story, published_at=reference.published_at,
                     rules=[rule for rule, wanted in reference.labels.items() if wanted])
