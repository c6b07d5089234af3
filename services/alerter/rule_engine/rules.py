"""Watch rules: the YAML format, its validation, and loading with errors that name file, rule and field.

A rule fires on an article when its ``sentence`` condition holds within one sentence (and its
``article`` condition, if any, holds over the whole text), after its ``sources`` and ``tags``
filters. Conditions are terms, entities, ``any``/``all``/``none`` groups and ``near`` proximity
(``conditions.py``). Terms match whole words on their lemmas, ignoring case unless ``case: sensitive``
("sanction" matches "sanctions", "sanctioned"; "buy" matches "bought"). See ``docs/rules.md``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from services.alerter.rule_engine.conditions import TAGS, Condition, is_positive
from services.alerter.rule_engine.terms import CaseMode
from shared.config_errors import decode_config, parse_entries_yaml, read_config_bytes, validate_entries
from shared.schemas import Priority

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_DURATION = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the field."""


def parse_duration(value: Any) -> Any:
    """``90``, ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"`` -> seconds; anything else is left to fail validation."""
    if isinstance(value, str) and (found := _DURATION.match(value)):
        return float(found["amount"]) * _UNIT_SECONDS[found["unit"] or "s"]
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; write e.g. 90, 30s, 10m, 2h or 1d")
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class Rule(BaseModel):
    """One watch rule."""

    model_config = ConfigDict(extra="forbid")

    id: RuleId
    name: str = Field(min_length=1)
    description: str = ""
    enabled: bool = True
    case: CaseMode = Field(default="insensitive", description="Default case mode of every term of the rule.")
    sources: list[NonEmpty] = Field(
        default_factory=list, description="Only articles whose source or URL matches one of these globs."
    )
    tags: list[NonEmpty] = Field(default_factory=list, description="Only articles carrying one of these tags.")
    sentence: Condition | None = Field(description="Must hold within one sentence.")
    article: Condition | None = Field(default=None, description="Must hold over the whole article.")
    cooldown: Seconds | None = Field(
        default=None, description="After an alert, no alert of this rule (any story) for this long."
    )
    webhooks: list[str] = Field(default_factory=list, description="Extra URLs that receive this rule's alerts.")
    priority: Priority = Field(
        default="normal", description="urgent: the rule's alerts go at once, also to subscriptions that get digests."
    )

    @model_validator(mode="before")
    @classmethod
    def _article_alone_is_enough(cls, data: Any) -> Any:
        """``sentence`` is required unless the rule has an ``article`` condition."""
        if isinstance(data, dict) and "article" in data and "sentence" not in data:
            return {**data, "sentence": None}
        return data

    @field_validator("sentence")
    @classmethod
    def _sentence_matches_something(cls, sentence: Condition | None) -> Condition | None:
        if sentence is not None and not is_positive(sentence):
            raise ValueError("must match some term or entity; a condition of only `none` would hold everywhere")
        return sentence

    @model_validator(mode="after")
    def _has_a_condition(self) -> Rule:
        if self.sentence is None and self.article is None:
            raise ValueError("a rule needs a `sentence` or an `article` condition")
        if self.sentence is None and self.article is not None and not is_positive(self.article):
            raise ValueError("`article` must match some term or entity when the rule has no `sentence` condition")
        return self


class RuleSet(BaseModel):
    """The whole rule file."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return rules


def default_rules_text() -> str:
    """The shipped watchlist (``iran-sanctions`` and ``rafah``)."""
    return resources.files("services.alerter.rule_engine").joinpath("default_rules.yaml").read_text("utf-8")


def parse_rules(text: str, origin: str) -> list[Rule]:
    """Validate rule YAML; ``origin`` (usually the file path) prefixes every error message."""
    ruleset = parse_entries_yaml(text, origin, RuleSet, RuleFileError, "rules", "rule", TAGS)
    return [rule for rule in ruleset.rules if rule.enabled]


def validate_rule(document: Any, origin: str) -> Rule:
    """One rule written as a mapping (an API request), with the rule file's error messages."""
    wrapped = {"rules": [document]}
    return validate_entries(wrapped, origin, RuleSet, RuleFileError, "rules", "rule", TAGS).rules[0]


def load_rules(path: Path | None) -> list[Rule]:
    """Rules from ``path``, or the shipped defaults when ``path`` is None; any problem raises ``RuleFileError``."""
    if path is None:
        return parse_rules(default_rules_text(), "default_rules.yaml")
    return parse_rule_file(read_rule_file(path), path)


def read_rule_file(path: Path) -> bytes:
    """The rule file's bytes (a regular file of bounded size), or ``RuleFileError`` saying why not."""
    return read_config_bytes(path, RuleFileError, "rule file")


def parse_rule_file(data: bytes, path: Path) -> list[Rule]:
    """Rules from the bytes of the file at ``path``: UTF-8, bounded YAML, validated; else ``RuleFileError``."""
    return parse_rules(decode_config(data, str(path), RuleFileError), str(path))
