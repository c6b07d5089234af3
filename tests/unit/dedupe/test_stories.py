"""Story ids with the in-process store: copies join the first article's story, other stories stay apart."""

from __future__ import annotations

from services.dedupe.cleanup import cleaned_article
from services.dedupe.fingerprint import fingerprints
from services.dedupe.sketches import Sketcher, signature_bytes
from services.dedupe.stories import StoryJudge, story_message
from services.dedupe.story_store import MemoryStoryStore
from shared.schemas import DuplicateArticle, RawArticle, UniqueArticle
from tests.unit.dedupe.conftest import COPY_HEADLINES, judged
from tests.unit.dedupe.syndication import syndicated_copy


async def test_copies_with_new_headline_trimmed_paragraph_and_other_chrome_join_the_seeds_story(
    judge: StoryJudge, seeds: dict[str, RawArticle]
) -> None:
    firsts = {number: await judged(judge, seed) for number, seed in seeds.items()}
    assert {number: judgement.verdict.story_id for number, judgement in firsts.items()} == {
        number: seed.article_id for number, seed in seeds.items()
    }, "each seed starts a story of its own"
    assert not any(judgement.verdict.is_duplicate for judgement in firsts.values())

    for number, seed in seeds.items():
        copy = syndicated_copy(seed, COPY_HEADLINES[number])
        assert COPY_HEADLINES[number] in copy.text and seed.title not in copy.text
        verdict = (await judged(judge, copy)).verdict
        assert verdict.story_id == seed.article_id, f"the copy of seed {number} joins its story"
        assert verdict.duplicate_of == seed.article_id
        assert verdict.matched_on == "minhash"
        assert verdict.similarity is not None and 0.5 <= verdict.similarity < 1


async def test_redelivery_gets_the_same_answer_and_never_a_duplicate_of_itself(
    judge: StoryJudge, seeds: dict[str, RawArticle]
) -> None:
    seed = seeds["002"]
    copy = syndicated_copy(seed, COPY_HEADLINES["002"])
    first = [await judged(judge, seed), await judged(judge, copy)]
    again = [await judged(judge, copy), await judged(judge, seed), await judged(judge, seed)]
    assert [judgement.verdict for judgement in again] == [first[1].verdict, first[0].verdict, first[0].verdict]
    assert first[0].verdict.duplicate_of is None and first[0].verdict.story_id == seed.article_id
    assert first[1].outlets == again[0].outlets == 2, "an outlet counts once per story, however often delivered"


async def test_outlet_count_grows_with_each_new_outlet(judge: StoryJudge, seeds: dict[str, RawArticle]) -> None:
    seed = seeds["001"]
    await judged(judge, seed)
    counts = [
        (await judged(judge, syndicated_copy(seed, headline, outlet))).outlets
        for headline, outlet in [("Blinken presses G7 on Gaza", "courier.example"),
                                 ("G7 talks: Blinken calls for unity", "ledger.example"),
                                 ("Blinken wants one G7 voice on Gaza", "ledger.example")]
    ]
    assert counts == [2, 3, 3]


async def test_exact_copies_by_text_and_by_canonical_url(judge: StoryJudge, seeds: dict[str, RawArticle]) -> None:
    seed = seeds["002"].model_copy(update={"url": "https://wire.example/blinken", "canonical_url": None})
    await judged(judge, seed)
    reprint = seed.model_copy(update={"article_id": "reprint", "url": "https://other.example/a",
                                      "text": "\n".join(line.upper() for line in seed.text.splitlines())})
    verdict = (await judged(judge, reprint)).verdict
    assert (verdict.story_id, verdict.matched_on, verdict.similarity) == (seed.article_id, "text", 1.0)
    same_page = seed.model_copy(update={"article_id": "same-page", "text": seed.text + "\n\nCorrection appended."})
    assert (await judged(judge, same_page)).verdict.matched_on == "url"


async def test_updated_page_with_the_same_id_keeps_its_story_and_flows_on_with_the_new_text(
    judge: StoryJudge, seeds: dict[str, RawArticle]
) -> None:
    seed = seeds["002"]
    before = await judged(judge, seed)
    updated = seed.model_copy(update={"text": seed.text + "\n\nUPDATE: Blinken arrived in Tel Aviv on Friday."})
    cleaned, _ = cleaned_article(updated)
    after = await judge.judge(cleaned)
    assert after.verdict == before.verdict
    message = story_message(cleaned, after)
    assert isinstance(message, UniqueArticle) and message.text.endswith("Blinken arrived in Tel Aviv on Friday.")


async def test_an_article_whose_first_attempt_crashed_after_recording_is_not_a_copy_of_itself(
    store: MemoryStoryStore, judge: StoryJudge, seeds: dict[str, RawArticle]
) -> None:
    sketcher = Sketcher(0.5)
    for number in ("001", "002"):
        seed, _ = cleaned_article(seeds[number])
        sketch = sketcher.sketch(seed.text)
        # The first attempt recorded the seed, then the worker died before storing a verdict.
        await store.sight(seed.article_id, fingerprints(seed), signature_bytes(sketch.signature), sketch.band_keys)
        exact = seed.model_copy(update={"article_id": f"exact-{number}"})
        near = syndicated_copy(seed, COPY_HEADLINES[number])
        copies = [(await judge.judge(exact)).verdict, (await judged(judge, near)).verdict]
        retried = (await judge.judge(seed)).verdict
        assert [verdict.story_id for verdict in copies] == [seed.article_id, seed.article_id]
        assert (retried.story_id, retried.duplicate_of) == (seed.article_id, None), "the seed still starts its story"
        assert (await judge.judge(seed)).verdict == retried


async def test_messages_carry_the_cleaned_text_and_the_verdict(
    judge: StoryJudge, seeds: dict[str, RawArticle]
) -> None:
    seed, _ = cleaned_article(seeds["000"])
    first = story_message(seed, await judge.judge(seed))
    assert type(first) is UniqueArticle and first.story_id == seed.article_id
    assert first.text.count("More Images") == 0 and first.text == seed.text
    copy, _ = cleaned_article(syndicated_copy(seeds["000"], COPY_HEADLINES["000"]))
    duplicate = story_message(copy, await judge.judge(copy))
    assert isinstance(duplicate, DuplicateArticle)
    assert (duplicate.story_id, duplicate.duplicate_of, duplicate.story_outlets) == (seed.article_id,
                                                                                      seed.article_id, 2)
    assert "Skip to content" not in duplicate.text and "All rights reserved" not in duplicate.text


async def test_short_briefs_are_deduped_exactly_but_never_merged_by_similarity(judge: StoryJudge) -> None:
    brief = ("Israeli forces pressed on towards Rafah on {day}, officials said. Aid groups warned that more than a "
             "million people shelter in the city.")
    monday, tuesday = (RawArticle(article_id=day, text=brief.format(day=day), source="https://wire.example/feed")
                       for day in ("Monday", "Tuesday"))
    reprint = monday.model_copy(update={"article_id": "reprint", "source": "https://other.example/feed"})
    verdicts = [(await judged(judge, article)).verdict for article in (monday, tuesday, reprint)]
    assert [verdict.story_id for verdict in verdicts] == ["Monday", "Tuesday", "Monday"]
    assert verdicts[2].matched_on == "text"
