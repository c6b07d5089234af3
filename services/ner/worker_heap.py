"""A worker process keeps the memory one batch freed for the next, and gives it back once it is idle.

glibc's malloc hands freed memory at the top of its heap back to the kernel as soon as more than its
trim threshold is free, a threshold that follows the largest block freed so far (at most 64 MiB). A
batch of articles frees more than that when it ends (spaCy's arrays for sixteen long articles are
hundreds of MiB), and the next batch takes the same memory back a page at a time, one page fault
each. Measured in a worker on the benchmark corpora: ten times the page faults of plain ``nlp.pipe``
and 5-10% of the worker's CPU, in system time. So a worker keeps what it frees, up to its memory
budget, and a thread gives it back (``malloc_trim``) once no batch has come for
``RETURN_AFTER_IDLE_S``: a quiet worker holds only what its pipelines need. With another C library
(no ``mallopt``) the allocator's own policy stays.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable

# mallopt's parameters, from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks at least this large are mapped on their own and unmapped when freed: glibc's own upper bound for
# its moving threshold. Setting the trim threshold fixes this one too, so it is set to where it would go.
MMAP_THRESHOLD_BYTES = 32 << 20
RETURN_AFTER_IDLE_S = 10.0


class KeptHeap:
    """The heap policy of one worker process: ``keep`` once at its start, ``in_use`` at each batch's start
    and end."""

    def __init__(self, kept_bytes: int, return_after_idle_s: float = RETURN_AFTER_IDLE_S) -> None:
        self.kept_bytes = kept_bytes
        self.return_after_idle_s = return_after_idle_s
        self._used = threading.Event()

    def keep(self) -> bool:
        """Keep up to ``kept_bytes`` of freed memory, and start the thread that gives it back when idle.
        False where the C library is not glibc, or refused the setting: nothing changed then."""
        try:
            libc = ctypes.CDLL(None)
            mallopt, malloc_trim = libc.mallopt, libc.malloc_trim
        except (OSError, AttributeError):
            return False
        if not (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) and mallopt(M_TRIM_THRESHOLD, self.kept_bytes)):
            return False
        threading.Thread(target=self._give_back_when_idle, args=(malloc_trim,), name="heap-given-back-when-idle",
                         daemon=True).start()
        return True

    def in_use(self) -> None:
        """The worker is annotating: what it frees stays for the next batch."""
        self._used.set()

    def _give_back_when_idle(self, malloc_trim: Callable[[int], int]) -> None:
        # Asleep until a batch comes; then awake once per RETURN_AFTER_IDLE_S while batches keep coming, and
        # asleep again, with no timer, once the memory is given back.
        while True:
            self._used.wait()
            while self._used.is_set():
                self._used.clear()
                time.sleep(self.return_after_idle_s)
            malloc_trim(0)
