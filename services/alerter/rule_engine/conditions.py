"""The condition tree of a watch rule, as it is written in YAML and validated.

A condition is a term (a plain string), or a mapping whose key says its kind: ``any``, ``all``,
``none`` (groups, nestable), ``near`` (two conditions at most ``within`` words apart), ``term``
(a term with options), ``entity`` / ``label`` (a named entity), ``aliases`` (a named alias set,
``aliases.py``) or ``event`` (who did what to whom, read from the sentence's dependency parse,
``events/constructions.py``). A string may also be written ``"sanction NEAR/5 Iran"``, short for a ``near`` of
two terms. See ``docs/rules.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from services.alerter.rule_engine.aliases import configured_aliases
from services.alerter.rule_engine.terms import MAX_NEAR_WORDS, CaseMode, CheckedTerm

# The checks of an event condition that a rule may switch off; the others always apply (docs/rules.md).
OptionalNewsCheck = Literal["past", "relief", "evasion", "intended"]
EventScope = Literal["headline", "lede", "anywhere"]

# spaCy's English entity labels (OntoNotes); a typo in a label would otherwise never match.
ENTITY_LABELS = frozenset({
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
    "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
})


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TermCondition(_Condition):
    """``{term: Iran, case: sensitive, min_mentions: 2}``: one word or phrase with options."""

    term: CheckedTerm
    case: CaseMode | None = Field(default=None, description="Default: the enclosing group's, else the rule's.")
    min_mentions: int | None = Field(default=None, ge=1, description="Occurrences needed in the whole article.")


class EntityCondition(_Condition):
    """``{entity: Iran, label: GPE}``: a mention of a named entity, by canonical name and/or label."""

    entity: str | list[str] | None = Field(default=None, description="Canonical name(s), any case.")
    label: str | list[str] | None = Field(default=None, description="spaCy label(s): PERSON, GPE, ORG, ...")
    min_mentions: int | None = Field(default=None, ge=1, description="Mentions needed in the whole article.")

    @field_validator("label")
    @classmethod
    def _known_labels(cls, label: str | list[str] | None) -> str | list[str] | None:
        for value in [label] if isinstance(label, str) else label or []:
            if value not in ENTITY_LABELS:
                raise ValueError(f"unknown entity label {value!r}; known: {', '.join(sorted(ENTITY_LABELS))}")
        return label

    @model_validator(mode="after")
    def _name_or_label(self) -> EntityCondition:
        if not self.names and not self.labels:
            raise ValueError("an entity condition needs a name (entity) or a label")
        return self

    @property
    def names(self) -> list[str]:
        values = [self.entity] if isinstance(self.entity, str) else self.entity or []
        return [value.strip() for value in values if value.strip()]

    @property
    def labels(self) -> list[str]:
        return [self.label] if isinstance(self.label, str) else list(self.label or [])


class AnyGroup(_Condition):
    """Satisfied when at least one member is."""

    any: list[Condition] = Field(min_length=1)
    case: CaseMode | None = None
    min_mentions: int | None = Field(default=None, ge=1, description="Matches of the group in the whole article.")


class AllGroup(_Condition):
    """Satisfied when every member is, in the same scope (the same sentence for ``sentence:``)."""

    all: list[Condition] = Field(min_length=1)
    case: CaseMode | None = None


class NoneGroup(_Condition):
    """Satisfied when no member is."""

    none: list[Condition] = Field(min_length=1)
    case: CaseMode | None = None


class NearCondition(_Condition):
    """Both conditions occur with at most ``within`` words between them."""

    near: list[Condition] = Field(min_length=2, max_length=2)
    within: int = Field(ge=0, le=MAX_NEAR_WORDS, description="Words allowed between the two.")
    case: CaseMode | None = None

    @field_validator("near")
    @classmethod
    def _positive_operands(cls, operands: list[Condition]) -> list[Condition]:
        if not all(is_positive(operand) for operand in operands):
            raise ValueError("near needs two conditions that match words, not `none` groups")
        return operands


class AliasCondition(_Condition):
    """``{aliases: iran}``: any term of the named alias set(s) (``aliases.yaml`` and NEWSMON_ALIASES_PATH)."""

    aliases: str | list[str] = Field(description="Alias set name(s).")

    @field_validator("aliases")
    @classmethod
    def _known_sets(cls, aliases: str | list[str]) -> str | list[str]:
        known = configured_aliases()
        names = [aliases] if isinstance(aliases, str) else aliases
        if not names:
            raise ValueError("name at least one alias set")
        for name in names:
            if name not in known:
                raise ValueError(f"unknown alias set {name!r}; known: {', '.join(sorted(known))}")
        return aliases

    @property
    def names(self) -> list[str]:
        return [self.aliases] if isinstance(self.aliases, str) else list(self.aliases)


class EventWordsInLanguage(_Condition):
    """An event condition's words in one more language: ``languages: {fr: {action: [...], object: [...]}}``.

    A list left out is inherited: the language's words for the condition's English terms (its
    lexicon, ``events/lexicons/<code>.yaml``), and its default cues and listing verbs."""

    action: list[CheckedTerm] | None = Field(default=None, min_length=1, description="Verbs and nouns, by lemma.")
    object: list[CheckedTerm] | None = Field(default=None, min_length=1, description="What the action is about.")
    cue: list[CheckedTerm] | None = Field(default=None, description="Newness cues; [] for none.")
    listing: list[CheckedTerm] | None = Field(default=None, description="Listing verbs; [] for none.")


class EventSpec(_Condition):
    """What an event condition asks of a sentence's parse: an action on an object, optionally by a
    source and against a target, reported as news (see ``docs/rules.md``)."""

    action: list[CheckedTerm] = Field(
        min_length=1, description="Verbs and nouns, by lemma, that carry the event out: impose, announce, round."
    )
    object: list[CheckedTerm] = Field(
        min_length=1, description="What the action is about: sanction, embargo, asset freeze; an object written "
        "as a verb ('sanctioned') is its own action."
    )
    target: Condition | None = Field(default=None, description="Must be named in the phrase the event is aimed at.")
    source: Condition | None = Field(default=None, description="Must be named in the phrase that carries it out.")
    cue: list[CheckedTerm] | None = Field(
        default=None, description="Words that make the object itself news when they modify it ('fresh sanctions'); "
        "default: new, fresh, further, additional, ...; [] for none."
    )
    listing: list[CheckedTerm] | None = Field(
        default=None, description="Verbs that act on the object through a list or regime it is reached through "
        "('added five firms to the list of those subject to an asset freeze', 'listed four companies under its "
        "sanctions regime'); default: add, include, list, put, place, enter, extend, expand, designate; [] for none."
    )
    allow: list[OptionalNewsCheck] = Field(
        default_factory=list, description="Checks to switch off: past (a past date), relief, evasion, intended "
        "(considered, planned, threatened, urged, hypothetical)."
    )
    scope: EventScope = Field(
        default="lede", description="Where in the article the event may be its news: 'lede' (the headline, the "
        "lede, or any sentence that anchors it in a present or recent time: 'on Tuesday', 'today'), 'headline' "
        "(the first sentence only) or 'anywhere'."
    )
    languages: dict[str, EventWordsInLanguage] = Field(
        default_factory=dict, description="The words in other languages the event condition reads (those with a "
        "lexicon and a trained pipeline: fr); a language left out inherits its lexicon's words for the "
        "English terms."
    )

    @field_validator("languages")
    @classmethod
    def _languages_with_a_lexicon(cls, languages: dict[str, EventWordsInLanguage]) -> dict[str, EventWordsInLanguage]:
        from services.alerter.rule_engine.events.languages import shipped_lexicons

        known = shipped_lexicons()
        for code in languages:
            if code not in known:
                raise ValueError(f"no event lexicon for language {code!r} (known: {', '.join(known)}); in a language "
                                 "without one an event condition cannot be read: use terms and near instead")
        return languages

    @field_validator("target", "source", mode="before")
    @classmethod
    def _list_is_any(cls, value: Any) -> Any:
        """``target: [Iran, Tehran]`` is short for ``target: {any: [Iran, Tehran]}``."""
        return {"any": value} if isinstance(value, list) else value

    @field_validator("target", "source")
    @classmethod
    def _positive(cls, value: Condition | None) -> Condition | None:
        if value is not None and not is_positive(value):
            raise ValueError("must match some term, entity or alias, not only `none` groups")
        return value


class EventCondition(_Condition):
    """``{event: {action: [...], object: [...], target: ..., source: ...}}``."""

    event: EventSpec


class _Unrecognized(_Condition):
    """A mapping with no known key: validation fails naming the unknown key."""

    @model_validator(mode="before")
    @classmethod
    def _never_empty(cls, value: Any) -> Any:
        if not value:
            raise ValueError("empty condition; write a term or one of any, all, none, near, term, entity, label, "
                             "aliases, event")
        return value


_KINDS = (("any", "any-group"), ("all", "all-group"), ("none", "none-group"), ("near", "near-condition"),
          ("term", "term-condition"), ("entity", "entity-condition"), ("label", "entity-condition"),
          ("aliases", "alias-condition"), ("event", "event-condition"))
TAGS = frozenset({"term-text", "unrecognized", *(tag for _, tag in _KINDS)})


def _kind(value: Any) -> str | None:
    """Which kind of condition a YAML value is; the tag never appears in error messages."""
    if isinstance(value, str):
        return "term-text"
    if isinstance(value, dict):
        return next((tag for key, tag in _KINDS if key in value), "unrecognized")
    if isinstance(value, BaseModel):
        return next((tag for key, tag in _KINDS if key in type(value).model_fields), None)
    return None


Condition = Annotated[
    Annotated[CheckedTerm, Tag("term-text")]
    | Annotated[AnyGroup, Tag("any-group")]
    | Annotated[AllGroup, Tag("all-group")]
    | Annotated[NoneGroup, Tag("none-group")]
    | Annotated[NearCondition, Tag("near-condition")]
    | Annotated[TermCondition, Tag("term-condition")]
    | Annotated[EntityCondition, Tag("entity-condition")]
    | Annotated[AliasCondition, Tag("alias-condition")]
    | Annotated[EventCondition, Tag("event-condition")]
    | Annotated[_Unrecognized, Tag("unrecognized")],
    Discriminator(_kind, custom_error_type="condition",
                  custom_error_message="expected a term or a mapping with any, all, none, near, term, entity, label, "
                  "aliases or event"),
]


def is_positive(condition: Condition) -> bool:
    """True when the condition can only hold by matching something (so an alert can show what matched)."""
    if isinstance(condition, (str, TermCondition, EntityCondition, NearCondition, AliasCondition, EventCondition)):
        return True
    if isinstance(condition, AnyGroup):
        return all(is_positive(member) for member in condition.any)
    if isinstance(condition, AllGroup):
        return any(is_positive(member) for member in condition.all)
    return False


for _model in (AnyGroup, AllGroup, NoneGroup, NearCondition, EventSpec):
    _model.model_rebuild()
