"""Commands whose code is imported only when one of them runs, so that ``newsmon --help`` and the
commands that only talk to the services start at once instead of loading spaCy, faust and the
rule engine first.

typer builds every command from its function's signature when the CLI starts, so a command
registered with ``app.command()`` costs the imports of its module. A command whose module is
heavy is registered as a ``Deferred`` of its group instead:

    app = command_group("newsmon: ...", {
        "dedupe": Deferred("newsmon.commands.dedupe:dedupe_command", "Story id ... of each article."),
    })

``newsmon --help`` lists it with that one-line help, without importing its module; running it
(or asking for its own ``--help``) imports the module and builds the real command. The target is a
command function or a ``typer.Typer`` of subcommands. A test checks that each one-line help is
the first line of the target's docstring, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Deferred:
    """A command known by name and one-line help, its code at ``target`` (``package.module:attribute``)."""

    target: str
    help: str

    def load(self, name: str) -> Any:
        """The real command (a group for a ``typer.Typer`` target), its module imported now."""
        module_name, attribute = self.target.split(":")
        value = getattr(importlib.import_module(module_name), attribute)
        if isinstance(value, typer.Typer):
            return typer.main.get_group(value)
        single = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
        single.command(name)(value)
        return typer.main.get_command(single)


class _Placeholder(TyperCommand):
    """What a group lists for a deferred command: its help, and the real command once it is parsed."""

    def __init__(self, name: str, deferred: Deferred) -> None:
        super().__init__(name=name, help=deferred.help, short_help=deferred.help)
        self.deferred = deferred

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The context belongs to the real command: click then invokes that command, not this one.
        return self.deferred.load(self.name or "").make_context(info_name, args, parent=parent, **extra)


def deferring_group(deferred: dict[str, Deferred]) -> type[TyperGroup]:
    """A typer group class (for ``typer.Typer(cls=...)``) that also lists and runs ``deferred``."""

    class DeferringGroup(TyperGroup):
        deferred: dict[str, Deferred]

        def list_commands(self, ctx: Any) -> list[str]:
            return sorted({*super().list_commands(ctx), *deferred})

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            command = super().get_command(ctx, cmd_name)
            if command is None and cmd_name in deferred:
                return _Placeholder(cmd_name, deferred[cmd_name])
            return command

    DeferringGroup.deferred = deferred
    return DeferringGroup


def command_group(help: str, deferred: dict[str, Deferred] | None = None) -> typer.Typer:
    """A group of commands (the ``newsmon`` command, or one of its groups) that also holds ``deferred``.

    Its help is plain text (``rich_markup_mode=None``): the docstrings hold no rich markup, and rich's
    formatter would cost the light commands a good part of their start.
    """
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
                       cls=deferring_group(deferred or {}))
