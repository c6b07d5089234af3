"""The release of newsmon, in one place: the package metadata (``pyproject.toml`` reads it from here),
the ``newsmon`` command and the fetcher's User-Agent all show this string.

It lives in ``shared/`` because the services sit below the ``newsmon`` command: a stage that reads
its version from ``newsmon`` would import the layer above it.
"""

__version__ = "0.1.0"
