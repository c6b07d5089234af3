"""Reading YAML config files that hold a list of named entries (rules, sources), safely and with readable errors.

Both files are edited by people and reloaded by running services, so reading one must never do
more than a config file needs: the file must be a regular file of at most ``MAX_CONFIG_BYTES``,
UTF-8 text, and YAML nested at most ``MAX_DEPTH`` levels with at most ``MAX_ALIASES`` aliases that
expand to at most ``MAX_EXPANDED_NODES`` values (a "billion laughs" bomb is refused after reading
a few hundred bytes of it). Every refusal raises the caller's error type, naming the file.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

M = TypeVar("M", bound=BaseModel)

MAX_CONFIG_BYTES = 5_000_000
MAX_DEPTH = 40
MAX_ALIASES = 200
# Values the document holds once every alias is expanded: a 1,000-rule file has a few tens of thousands.
MAX_EXPANDED_NODES = 500_000


class ConfigTooComplex(yaml.YAMLError):
    """A YAML document past one of the module's bounds; the message says which."""


def read_config_text(path: Path, error: type[Exception], what: str) -> str:
    """The text of the config file at ``path``; any problem raises ``error`` naming the file (``what``: "rule file")."""
    return decode_config(read_config_bytes(path, error, what), str(path), error)


def read_config_bytes(path: Path, error: type[Exception], what: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_CONFIG_BYTES``; anything else raises ``error``.

    A directory, a FIFO (which would block the reader) or a device put in the file's place is
    refused before it is opened.
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: cannot read {what}: it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: cannot read {what}: not a regular file")
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as problem:
        raise error(f"{path}: cannot read {what}: {problem.strerror}") from problem
    if len(data) > MAX_CONFIG_BYTES:
        raise error(f"{path}: {what} is larger than {MAX_CONFIG_BYTES} bytes")
    return data


def decode_config(data: bytes, origin: str, error: type[Exception]) -> str:
    """``data`` as UTF-8 text; a byte that is not UTF-8 raises ``error`` with its line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        column = problem.start - (data.rfind(b"\n", 0, problem.start) + 1) + 1
        raise error(f"{origin}: not UTF-8 text: byte 0x{data[problem.start]:02x} at line {line}, column {column}"
                    ) from problem


def load_bounded_yaml(text: str, origin: str, error: type[Exception]) -> Any:
    """``text`` as YAML (safe types only) within the module's bounds; any problem raises ``error`` naming ``origin``."""
    if len(text) > MAX_CONFIG_BYTES:
        raise error(f"{origin}: larger than {MAX_CONFIG_BYTES} characters")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except ConfigTooComplex as problem:
        raise error(f"{origin}: refused: {problem}") from problem
    except yaml.YAMLError as problem:
        raise error(f"{origin}: not valid YAML: {problem}") from problem
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting nesting and aliases while it composes the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ConfigTooComplex(f"more than {MAX_ALIASES} aliases (*name)")
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ConfigTooComplex(f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_expansion(root: Node) -> None:
    """Refuse a graph whose aliases expand past ``MAX_EXPANDED_NODES`` values, or refer to themselves.

    Aliases share nodes, so the graph is small even when its expansion is huge; the expanded size
    of each shared node is computed once. The graph's depth is bounded by the loader, so
    recursion here is too.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def expanded(node: Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise ConfigTooComplex("an alias refers to the collection that holds it")
        open_nodes.add(id(node))
        total = 1
        for child in _children(node):
            total += expanded(child)
            if total > MAX_EXPANDED_NODES:
                raise ConfigTooComplex(f"aliases expand to more than {MAX_EXPANDED_NODES} values")
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    expanded(root)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse_entries_yaml(text: str, origin: str, model: type[M], error: type[Exception], collection: str, noun: str,
                       hidden: frozenset[str] = frozenset()) -> M:
    """``text`` parsed as bounded YAML and validated as ``model``; any problem raises ``error`` naming ``origin``."""
    return validate_entries(load_bounded_yaml(text, origin, error), origin, model, error, collection, noun, hidden)


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
