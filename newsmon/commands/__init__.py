"""CLI commands that live in modules of their own; ``newsmon/cli.py`` registers them."""
