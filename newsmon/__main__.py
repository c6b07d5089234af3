"""``python -m newsmon`` is the ``newsmon`` command."""

from newsmon.cli import main

main()
