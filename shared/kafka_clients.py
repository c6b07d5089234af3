"""Plain aiokafka clients for the CLI (replay, alert tail, backtests), alert replay, and creating topics."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from shared import topics
from shared.settings import SERVICE_NAMES, Settings

# How long a following reader's loops wait with nothing to wake them (``consumer(follow=True)``).
FOLLOW_WAKE_S = 5.0
READ_TIMEOUT_S = 30.0  # without any progress; a reachable broker answers in well under a second


class TopicReadError(RuntimeError):
    """A topic cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Record:
    """One message of a topic, as ``read_last`` returns it."""

    partition: int
    offset: int
    value: bytes


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


def consumer(settings: Settings, *topic_names: str, from_beginning: bool = True,
             follow: bool = False) -> AIOKafkaConsumer:
    """A group-less consumer: reading a topic to watch or backtest never moves a service's offsets.

    One that ``follow``s a topic for as long as it runs (``newsmon up``'s alert console) waits on an
    empty fetch as long as the services do (``Settings.fetch_max_wait_s``) and looks for other work
    only every ``FOLLOW_WAKE_S``: aiokafka's defaults (0.5 s, 0.2 s) made it the busiest process of an
    idle stack, and a new record still ends either wait at once.
    """
    waits = {"fetch_max_wait_ms": round(settings.fetch_max_wait_s * 1000),
             "consumer_timeout_ms": round(FOLLOW_WAKE_S * 1000)} if follow else {}
    return AIOKafkaConsumer(
        *topic_names,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        **waits,
    )


async def read_last(settings: Settings, topic: str, last: int) -> list[Record]:
    """The last ``last`` messages of every partition, in partition then offset order."""
    reader = consumer(settings)
    try:
        await reader.start()
        if topic not in await reader.topics():
            raise TopicReadError(f"topic {topic!r} does not exist on {settings.bootstrap}")
        partitions = [TopicPartition(topic, number) for number in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(partitions)
        ends = await reader.end_offsets(partitions)
        begins = await reader.beginning_offsets(partitions)
        pending = set()
        for partition in partitions:
            start = max(begins[partition], ends[partition] - last)
            reader.seek(partition, start)
            if start < ends[partition]:
                pending.add(partition)
        records: list[Record] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while pending:
            if time.monotonic() > deadline:
                raise TopicReadError(f"reading {topic!r} from {settings.bootstrap} made no progress "
                                    f"for {READ_TIMEOUT_S:.0f}s")
            batches = await reader.getmany(*pending, timeout_ms=1000)
            for partition, batch in batches.items():
                records += [Record(partition.partition, item.offset, item.value)
                            for item in batch if item.offset < ends[partition] and item.value is not None]
                deadline = time.monotonic() + READ_TIMEOUT_S
            for partition in list(pending):
                if await reader.position(partition) >= ends[partition]:
                    pending.discard(partition)
        return sorted(records, key=lambda record: (record.partition, record.offset))
    except (KafkaError, OSError) as error:
        raise TopicReadError(f"cannot read {topic!r} from {settings.bootstrap}: {error}") from error
    finally:
        await reader.stop()
