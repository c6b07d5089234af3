"""The figures README and docs/rules.md quote: each rule file on each labelled set, as a Markdown table.

    .venv/bin/python tests/real_reporting/compare_rules.py [--texts <scratch>]

Rows: the shipped rules (``services/alerter/rule_engine/default_rules.yaml``) and the keyword rules
they replaced (``keyword_rules.yaml``); sets: the in-repo labelled set (a regression test, written
beside the rules) and, with ``--texts``, the real-reporting set (the measure, never used to write
them; its texts rebuilt as ``README.md`` here says).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from newsmon.commands.rules_eval import RuleScore, evaluate_labels
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import load_rules
from shared.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = {
    "shipped rules": REPO / "services" / "alerter" / "rule_engine" / "default_rules.yaml",
    "keyword rules": Path(__file__).with_name("keyword_rules.yaml"),
}
IN_REPO = REPO / "tests" / "unit" / "alerter" / "labelled" / "rules.jsonl"
REAL = Path(__file__).with_name("references.jsonl")


def cell(score: RuleScore) -> str:
    def ratio(value: float | None, hits: int, total: int) -> str:
        return "n/a" if value is None else f"{value:.2f} ({hits}/{total})"

    text = (f"{ratio(score.precision, score.true_positives, score.true_positives + score.false_positives)} / "
            f"{ratio(score.recall, score.true_positives, score.true_positives + score.false_negatives)}")
    if any(pages > 1 for pages in score.story_pages.values()):
        text += f", stories {ratio(score.story_recall, len(score.stories_served), len(score.story_pages))}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=Path, help="the real-reporting texts, <id>.txt per reference")
    arguments = parser.parse_args()
    settings = get_settings()
    sets = [("in-repo set (regression, written beside the rules)", IN_REPO, None)]
    if arguments.texts is not None:
        sets.append(("real-reporting set (the measure)", REAL, arguments.texts))
    print("| rules | rule | set | precision / recall |")
    print("| --- | --- | --- | --- |")
    for name, path in RULE_FILES.items():
        rules = compile_rules(load_rules(path))
        for set_name, labels, texts in sets:
            _, scores = evaluate_labels(labels, rules, settings, texts)
            for score in scores:
                print(f"| {name} | `{score.rule_id}` | {set_name} | {cell(score)} |")


if __name__ == "__main__":
    main()
