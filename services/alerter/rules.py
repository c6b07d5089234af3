"""Watch rules: the YAML format, its validation, and loading with errors that name file, rule and field.

A rule fires when one sentence of an article satisfies every group of ``sentence.all``; a group
is satisfied when any of its terms occurs in that sentence. Terms match whole words, ignoring
case, and also match their regular inflections ("sanction" matches "sanctions", "sanctioned").
See ``docs/rules.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the field."""


class TermGroup(BaseModel):
    """Satisfied when any of the terms occurs in the sentence."""

    model_config = ConfigDict(extra="forbid")

    any: list[Term] = Field(min_length=1)


class SentenceCondition(BaseModel):
    """Every group must be satisfied within the same sentence."""

    model_config = ConfigDict(extra="forbid")

    all: list[TermGroup] = Field(min_length=1)


class Rule(BaseModel):
    """One watch rule."""

    model_config = ConfigDict(extra="forbid")

    id: RuleId
    name: str = Field(min_length=1)
    description: str = ""
    sentence: SentenceCondition
    webhooks: list[str] = Field(default_factory=list, description="Extra URLs that receive this rule's alerts.")
    enabled: bool = True


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
    return resources.files("newsmon.services.alerter").joinpath("default_rules.yaml").read_text("utf-8")


def parse_rules(text: str, origin: str) -> list[Rule]:
    """Validate rule YAML; ``origin`` (usually the file path) prefixes every error message."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RuleFileError(f"{origin}: not valid YAML: {error}") from error
    try:
        ruleset = RuleSet.model_validate(document)
    except ValidationError as error:
        raise RuleFileError(f"{origin}: " + "; ".join(_describe(document, item) for item in error.errors())) from error
    return [rule for rule in ruleset.rules if rule.enabled]


def load_rules(path: Path | None) -> list[Rule]:
    """Rules from ``path``, or the shipped defaults when ``path`` is None."""
    if path is None:
        return parse_rules(default_rules_text(), "default_rules.yaml")
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise RuleFileError(f"{path}: cannot read rule file: {error.strerror}") from error
    return parse_rules(text, str(path))


def _describe(document: object, item: dict) -> str:  # type: ignore[type-arg]
    """``rule 'rafah': field sentence.all.0.any: List should have at least 1 item``."""
    location = list(item["loc"])
    prefix = ""
    if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
        rules = document.get("rules") if isinstance(document, dict) else None
        rule = rules[location[1]] if isinstance(rules, list) and location[1] < len(rules) else None
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        prefix = f"rule {rule_id!r}: " if rule_id else f"rule #{location[1] + 1}: "
        location = location[2:]
    field = ".".join(str(part) for part in location) or "<rule>"
    return f"{prefix}field {field}: {item['msg']}"
