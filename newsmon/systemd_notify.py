"""Readiness and stop notices to systemd (``Type=notify``): the ``sd_notify`` protocol, one datagram of
``KEY=value`` lines to the socket named in ``$NOTIFY_SOCKET``.

The protocol is a few lines, so it is written here rather than taken from a library (the pure
Python one, ``sdnotify``, has not changed since 2017). Outside systemd the variable is unset and
``notify`` does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

from shared.logs import log_event

logger = logging.getLogger(__name__)


def notify(*fields: str, environ: dict[str, str] | None = None) -> bool:
    """Send ``fields`` (``READY=1``, ``STOPPING=1``, ``STATUS=...``) to systemd; True when it was sent.

    A socket name starting with ``@`` is in the abstract namespace. A failure is logged, not raised:
    systemd then reports the start as timed out, which says more than a crash of the stack would.
    """
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
    except OSError as error:
        log_event(logger, "systemd.notify_failed", logging.WARNING, fields=list(fields), error=str(error))
        return False
    return True
