"""Plain aiokafka clients for the CLI (replay, alert tail, backtests) and for creating topics."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from newsmon.shared import topics
from newsmon.shared.settings import SERVICE_NAMES, Settings


def all_topic_names() -> list[str]:
    """Pipeline topics and every service's dead-letter topic."""
    return [*topics.PIPELINE_TOPICS, *(topics.dead_letter_topic(name) for name in SERVICE_NAMES)]


async def ensure_topics(settings: Settings) -> None:
    """Create the topics the stack uses, so consumers and outside readers find them from the start."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=settings.topic_partitions, replication_factor=1)
            for name in all_topic_names()
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            # Another process creating a topic first (error 36, already exists) is the state we want.
            failures = [f"{topic}: {message}" for topic, code, message in response.topic_errors if code not in (0, 36)]
            if failures:
                raise RuntimeError("could not create topics: " + "; ".join(failures))
    finally:
        await admin.close()


def producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas, so a returned send is stored."""
    return AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=False)


def consumer(settings: Settings, *topic_names: str, from_beginning: bool = True) -> AIOKafkaConsumer:
    """A group-less consumer: reading a topic to watch or backtest never moves a service's offsets."""
    return AIOKafkaConsumer(
        *topic_names,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
