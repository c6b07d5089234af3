"""Why a channel could not send: the dispatcher retries a transient failure and gives up on a permanent one."""

from __future__ import annotations


class ChannelError(Exception):
    """A message could not be handed to its channel; the text names the cause, never a secret."""


class TransientSendError(ChannelError):
    """Worth retrying later: connection refused or reset, a timeout, an SMTP 4xx answer."""


class PermanentSendError(ChannelError):
    """Retrying will not help: an SMTP 5xx answer such as an unknown recipient, or a refused login."""
