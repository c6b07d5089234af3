"""Read newsmon's public ``articles.enriched`` topic: one line per article with its main entities.

    pip install aiokafka
    python examples/enriched_consumer.py [BOOTSTRAP [MAX_ARTICLES]]    # default 127.0.0.1:9092, no limit

Messages are JSON (see docs/enriched-topic.md). Only ``schema_version`` 1 is read: within a version
newsmon only adds optional fields, so unknown fields are ignored and this keeps working.
"""

import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer


async def main(bootstrap: str, max_articles: int | None) -> None:
    consumer = AIOKafkaConsumer("articles.enriched", bootstrap_servers=bootstrap, group_id="enriched-example",
                                auto_offset_reset="earliest", value_deserializer=json.loads)
    await consumer.start()
    try:
        count = 0
        async for record in consumer:
            article = record.value
            if article.get("schema_version") != 1:
                print(f"skipped {article.get('article_id')}: schema_version {article.get('schema_version')}")
                continue
            people = [e["name"] for e in article["entities"] if e["label"] == "PERSON"][:3]
            places = [e["name"] for e in article["entities"] if e["label"] in ("GPE", "LOC")][:3]
            print(f"[{article['language'] or '?'}] {article['title'][:60]} | people: {', '.join(people) or '-'} "
                  f"| places: {', '.join(places) or '-'}" + (" | truncated" if article["text_truncated"] else ""))
            count += 1
            if max_articles is not None and count >= max_articles:
                return
    finally:
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092",
                     int(sys.argv[2]) if len(sys.argv) > 2 else None))
