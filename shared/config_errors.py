"""Readable errors for YAML config files that hold a list of named entries (rules, sources)."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_entries_yaml(text: str, origin: str, model: type[M], error: type[Exception], collection: str, noun: str,
                       hidden: frozenset[str] = frozenset()) -> M:
    """``text`` parsed as YAML and validated as ``model``; any problem raises ``error`` naming ``origin``."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise error(f"{origin}: not valid YAML: {problem}") from problem
    return validate_entries(document, origin, model, error, collection, noun, hidden)


def validate_entries(document: Any, origin: str, model: type[M], error: type[Exception], collection: str, noun: str,
                     hidden: frozenset[str] = frozenset()) -> M:
    """``document`` validated as ``model``; problems raise ``error`` with ``describe_entry_errors``'s message."""
    try:
        return model.model_validate(document)
    except ValidationError as problem:
        raise error(describe_entry_errors(origin, document, problem, collection, noun, hidden)) from problem


def describe_entry_errors(origin: str, document: Any, error: ValidationError, collection: str, noun: str,
                          hidden: frozenset[str] = frozenset()) -> str:
    """``<origin>: <noun> '<id>': field <path>: <problem>`` for every problem, joined by ``; ``.

    ``collection`` is the top-level list key (``rules``); entries are named by their ``id`` or
    ``name`` field, or by position when they have neither. ``hidden`` location parts are left
    out of the path: tags pydantic adds (e.g. the kinds of a rule condition) that no user wrote.
    """
    return f"{origin}: " + "; ".join(_describe(document, item, collection, noun, hidden) for item in error.errors())


def _describe(document: Any, item: Any, collection: str, noun: str, hidden: frozenset[str]) -> str:
    location = [part for part in item["loc"] if part not in hidden]
    prefix = ""
    if len(location) >= 2 and location[0] == collection and isinstance(location[1], int):
        entries = document.get(collection) if isinstance(document, dict) else None
        entry = entries[location[1]] if isinstance(entries, list) and location[1] < len(entries) else None
        label = (entry.get("id") or entry.get("name")) if isinstance(entry, dict) else None
        prefix = f"{noun} {label!r}: " if label else f"{noun} #{location[1] + 1}: "
        location = location[2:]
    field = ".".join(str(part) for part in location) or f"<{noun}>"
    return f"{prefix}field {field}: {str(item['msg']).removeprefix('Value error, ')}"
