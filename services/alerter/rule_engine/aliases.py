"""Alias sets: named lists of the ways news names an actor ("iran": Iran, Iranian, Tehran, the IRGC, ...).

An entry is a name, a nationality word, or a phrase naming what the actor owns or sells ("Iranian
oil"); an event condition reads a phrase in a reason as naming its target, a nationality word
alone on other goods not (``events/node.py``).

The shipped sets (``aliases.yaml``) are read first, then the file named by ``NEWSMON_ALIASES_PATH``,
whose sets add their entries to a shipped set of the same name, or are new sets. A rule names a
set with ``{aliases: iran}``; rule validation refuses a name no set has, with the known names.
The table is read once per process (a changed alias file takes effect at the next start).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, ValidationError

from services.alerter.rule_engine.terms import CaseMode, CheckedTerm
from shared.settings import get_settings

AliasName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]


class AliasFileError(ValueError):
    """An alias file that cannot be used; the message names the file, the set and the entry."""


class AliasTerm(BaseModel):
    """``{term: US, case: sensitive}``: an alias that must match as written."""

    model_config = ConfigDict(extra="forbid")

    term: CheckedTerm
    case: CaseMode = "insensitive"


def _entry_kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "term"


AliasEntry = Annotated[Annotated[CheckedTerm, Tag("text")] | Annotated[AliasTerm, Tag("term")],
                       Discriminator(_entry_kind)]


class _AliasFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aliases: dict[AliasName, list[AliasEntry]] = Field(description="Set name -> its terms.")


AliasTable = Mapping[str, tuple[AliasEntry, ...]]


def parse_aliases(text: str, origin: str) -> dict[str, tuple[AliasEntry, ...]]:
    """The alias sets of one file's YAML text; ``origin`` (the path) prefixes every error."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AliasFileError(f"{origin}: not valid YAML: {error}") from error
    try:
        parsed = _AliasFile.model_validate(document)
    except ValidationError as error:
        raise AliasFileError(f"{origin}: {_describe(error)}") from error
    empty = [name for name, entries in parsed.aliases.items() if not entries]
    if empty:
        raise AliasFileError(f"{origin}: alias set {empty[0]!r}: has no entries")
    return {name: tuple(entries) for name, entries in parsed.aliases.items()}


def load_aliases(path: Path | None) -> dict[str, tuple[AliasEntry, ...]]:
    """The shipped sets, extended by the file at ``path`` when given."""
    shipped = resources.files("services.alerter.rule_engine").joinpath("aliases.yaml").read_text("utf-8")
    table = parse_aliases(shipped, "aliases.yaml")
    if path is None:
        return table
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise AliasFileError(f"{path}: cannot read alias file (NEWSMON_ALIASES_PATH): {error.strerror}") from error
    for name, entries in parse_aliases(text, str(path)).items():
        table[name] = table.get(name, ()) + entries
    return table


@lru_cache(maxsize=1)
def configured_aliases() -> AliasTable:
    """The process's alias table: the shipped sets and ``NEWSMON_ALIASES_PATH``'s, read once."""
    return load_aliases(get_settings().aliases_path)


def _describe(error: ValidationError) -> str:
    """``alias set 'iran': entry #3: ...`` rather than pydantic's location tuple."""
    problems = []
    for item in error.errors():
        location = list(item["loc"])
        where = f"field {'.'.join(map(str, location)) or '<file>'}"
        if len(location) >= 3 and location[0] == "aliases" and location[2] == "[key]":
            where = f"alias set name {location[1]!r}"
        elif len(location) >= 3 and location[0] == "aliases" and isinstance(location[2], int):
            where = f"alias set {location[1]!r}: entry #{location[2] + 1}"
        elif len(location) == 2 and location[0] == "aliases":
            where = f"alias set {location[1]!r}"
        problems.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)
