"""CLI commands that live in modules of their own; ``newsmon/cli.py`` registers them.

A command here keeps the top of its module light (typer, httpx, the standard library, ``shared.settings``)
and imports anything heavier (spaCy, faust, aiokafka, the rule engine, ``services.*``) inside its function,
then registers it in ``cli.py`` with ``app.command(...)`` or ``app.add_typer(...)`` and joins
``LIGHT_COMMANDS`` in ``tests/unit/test_cli_imports.py``. A command whose module cannot be light
(``dedupe``, ``ner``) is registered as a ``Deferred`` instead (``newsmon/deferred_commands.py``).
"""
