"""A worker keeps the memory a batch freed for the next batch, and gives it back once idle.

Each case runs in a process of its own (the heap policy is per process, and this one's must stay as it is).
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from typing import NamedTuple

from services.ner.worker_heap import KeptHeap

PAGE = resource.getpagesize()
BATCH_BYTES = 64 << 20  # what one batch allocates and frees, in blocks the size spaCy's arrays have
BLOCK_BYTES = 256 << 10
IDLE_S = 0.3


class HeapUse(NamedTuple):
    policy_applied: bool
    third_batch_page_faults: int
    resident_after_batch: int
    resident_after_idle: int


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def three_batches(keep: bool) -> HeapUse:
    """Three batches that each allocate (and write) BATCH_BYTES and free them, then a quiet spell."""
    heap = KeptHeap(kept_bytes=256 << 20, return_after_idle_s=IDLE_S)
    applied = heap.keep() if keep else False

    def batch() -> None:
        heap.in_use()
        blocks = [b"\x01" * BLOCK_BYTES for _ in range(BATCH_BYTES // BLOCK_BYTES)]
        del blocks
        heap.in_use()

    batch()
    batch()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    batch()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    resident_after_batch = resident_bytes()
    time.sleep(IDLE_S * 4)
    return HeapUse(applied, faults, resident_after_batch, resident_bytes())


def in_a_new_process(keep: bool) -> HeapUse:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(three_batches, (keep,))


def test_a_busy_worker_takes_back_freed_memory_without_page_faults_and_returns_it_when_idle() -> None:
    kept = in_a_new_process(keep=True)
    default = in_a_new_process(keep=False)
    pages = BATCH_BYTES // PAGE
    assert kept.policy_applied
    # glibc's own policy gives the freed memory back at once, and the next batch faults it in again page by
    # page; kept, the third batch reuses the second's memory.
    assert default.third_batch_page_faults > pages // 2
    assert kept.third_batch_page_faults < pages // 20
    assert kept.resident_after_batch >= BATCH_BYTES
    # Once no batch has come for return_after_idle_s, the memory goes back to the system.
    assert kept.resident_after_idle < kept.resident_after_batch - BATCH_BYTES // 2
