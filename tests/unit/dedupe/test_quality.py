"""Precision and recall of story ids on the labelled set (see README.md beside this file)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from newsmon.commands.dedupe import FileVerdict, judge_files
from shared.settings import Settings
from tests.unit.dedupe.conftest import LABELLED


def story_label(file: str) -> str:
    return Path(file).name.split("__")[0]


def pairwise_scores(story_ids: dict[str, str]) -> tuple[float, float, int, int]:
    """Precision and recall over pairs of articles: "same story" predicted vs labelled."""
    true_positive = false_positive = false_negative = same_story = 0
    for first, second in combinations(story_ids, 2):
        labelled_same = story_label(first) == story_label(second)
        predicted_same = story_ids[first] == story_ids[second]
        same_story += labelled_same
        true_positive += labelled_same and predicted_same
        false_positive += predicted_same and not labelled_same
        false_negative += labelled_same and not predicted_same
    predicted = true_positive + false_positive
    return (true_positive / predicted if predicted else 1.0, true_positive / (true_positive + false_negative),
            same_story, len(story_ids) * (len(story_ids) - 1) // 2 - same_story)


async def test_labelled_set_precision_and_recall() -> None:
    results = await judge_files([LABELLED], Settings(_env_file=None).dedupe_similarity_threshold)
    verdicts = {result.file: result.judgement.verdict for result in results if isinstance(result, FileVerdict)}
    assert len(verdicts) == len(list(LABELLED.glob("*.txt"))) == 16
    precision, recall, same_pairs, different_pairs = pairwise_scores(
        {file: verdict.story_id for file, verdict in verdicts.items()}
    )
    print(f"dedupe labelled set: precision {precision:.2f}, recall {recall:.2f} "
          f"({same_pairs} same-story pairs, {different_pairs} different-story pairs)")
    assert precision == 1.0, "no two different stories share a story id"
    assert recall >= 0.9
    for file, verdict in verdicts.items():
        if "__1-wire" in file:
            assert not verdict.is_duplicate, f"{file} is the first of its story"


async def test_a_copy_of_an_update_points_at_the_update_and_keeps_the_first_story() -> None:
    results = await judge_files([LABELLED], Settings(_env_file=None).dedupe_similarity_threshold)
    by_name = {Path(result.file).name: result for result in results if isinstance(result, FileVerdict)}
    wire, update, copy = (by_name[f"quake-hualien__{name}.txt"] for name in ("1-wire", "2-update", "3-syndicated"))
    assert update.judgement.verdict.duplicate_of == wire.article_id
    assert copy.judgement.verdict.duplicate_of == update.article_id, "the copy is closest to the update it copies"
    assert copy.judgement.verdict.story_id == wire.article_id
    assert copy.judgement.outlets == 3
