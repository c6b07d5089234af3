"""Readable errors for YAML config files that hold a list of named entries (rules, sources)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


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
