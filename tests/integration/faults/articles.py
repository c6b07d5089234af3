"""Generated articles for the fault tests: each one a story of its own that fires the default `rafah` rule.

Every article's text is its own random English, so dedupe never joins two of them into one story
and each must produce exactly one alert, titled ``Rafah <batch> <number>``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

_VOCABULARY = ("the council approved a new budget for schools and roads after a long debate while farmers "
          "reported an early harvest and prices for grain fell across the region as engineers inspected "
          "the old bridge before the storm reached the coast on monday when volunteers opened a library "
          "in the town hall and invited children to read")
_WORDS = _VOCABULARY.split()


def batch_titles(batch: str, count: int) -> set[str]:
    """The alert titles a batch must produce, one per article."""
    return {f"Rafah {batch} {number}" for number in range(count)}


def write_batch(folder: Path, batch: str, count: int) -> Path:
    """``count`` articles as one .jsonl file named after the batch; returns its path."""
    lines = []
    for number in range(count):
        chance = random.Random(f"{batch}/{number}")
        filler = " ".join(
            " ".join(chance.choice(_WORDS) for _ in range(12)).capitalize() + "." for _ in range(6)
        )
        text = f"Aid convoys reached Rafah at dawn, officials said of shipment {batch} {number}. {filler}"
        lines.append(json.dumps({"title": f"Rafah {batch} {number}", "text": text}))
    path = folder / f"{batch}.jsonl"
    staging = folder / f".{batch}.jsonl.tmp"  # hidden, so a polling fetcher never reads half a file
    staging.write_text("\n".join(lines) + "\n")
    staging.rename(path)
    return path
