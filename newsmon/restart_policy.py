"""When the supervisor of ``newsmon up`` restarts a process that died: compose's ``unless-stopped``
with a capped exponential backoff.

A process that dies is started again after ``initial_s``, then twice as long after each further
death (``initial_s``, 2x, 4x, ... up to ``cap_s``), so a process that cannot start does not spin
the machine, while a one-off crash costs a second. A process that stayed up ``stable_s`` has
recovered: its next death waits ``initial_s`` again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INITIAL_DELAY_S = 1.0
MAX_DELAY_S = 30.0
STABLE_AFTER_S = 30.0


@dataclass
class Backoff:
    """The delays before the restarts of one process."""

    initial_s: float = INITIAL_DELAY_S
    cap_s: float = MAX_DELAY_S
    stable_s: float = STABLE_AFTER_S
    _failures: int = field(default=0, init=False)

    def next_delay(self, uptime_s: float) -> float:
        """The wait before restarting a process that died after running ``uptime_s`` seconds."""
        if uptime_s >= self.stable_s:
            self._failures = 0
        delay = min(self.initial_s * 2.0**self._failures, self.cap_s)
        self._failures += 1
        return delay

    def retry_delay(self) -> float:
        """The wait before trying again after a restart attempt itself failed (the process never ran)."""
        return self.next_delay(uptime_s=0.0)
