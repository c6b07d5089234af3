"""What ``/readyz`` reports: named checks, each passed or failed with the reason an operator reads.

A probe must answer within its caller's timeout and never raise, so the checks run side by side
under one deadline, and an exception or a timeout becomes a failed check that says what happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

ReadinessCheck = Callable[[], Awaitable[bool]]
# Below the 2 s that `newsmon up` and `newsmon status` wait for /readyz, so they get an answer.
CHECK_TIMEOUT_S = 1.5
# A dependency probe gives up a little before the check's own deadline, so /readyz shows the
# probe's reason (which dependency, where) rather than a bare timeout.
PROBE_TIMEOUT_S = 1.2


class NotReady(Exception):
    """A check failed; the message is the reason ``/readyz`` shows."""


@dataclass(frozen=True)
class Readiness:
    """Each check's result by name, and why each failed one failed."""

    checks: dict[str, bool]
    reasons: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(self.checks.values())


async def broker_answers(bootstrap: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when a broker of ``bootstrap`` answers a metadata request; otherwise raises ``NotReady``.

    aiokafka's client bootstraps the way the service's own producer and consumer do (connect, then
    a Kafka metadata request), so a port that accepts connections but does not speak Kafka counts
    as down too. The client is made per call and closed at once: the check shares no state with
    the clients it vouches for, so it sees an outage they have not noticed yet.
    """
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
    except TimeoutError as error:
        raise NotReady(f"no broker of {bootstrap} answered within {timeout_s:g}s") from error
    except (KafkaError, OSError) as error:
        raise NotReady(f"cannot reach a broker of {bootstrap}: {type(error).__name__}") from error
    finally:
        await client.close()
    return True


async def redis_answers(redis: Redis, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when Redis answers a PING; otherwise raises ``NotReady`` naming the server and the problem.

    An error reply counts as down too (LOADING after a restart, a wrong password): the services
    cannot use a Redis that refuses them. The server is named by host and port only, never by a
    URL that may carry a password.
    """
    where = _redis_address(redis)
    try:
        answered = await asyncio.wait_for(redis.ping(), timeout_s)
    except TimeoutError as error:
        raise NotReady(f"Redis at {where} did not answer PING within {timeout_s:g}s") from error
    except (RedisError, OSError) as error:
        raise NotReady(f"Redis at {where} is unavailable: {type(error).__name__}: {error}") from error
    return bool(answered)


def _redis_address(redis: Redis) -> str:
    options = redis.connection_pool.connection_kwargs
    return str(options.get("path") or f"{options.get('host', '?')}:{options.get('port', '?')}")


async def run_checks(checks: list[ReadinessCheck], timeout_s: float = CHECK_TIMEOUT_S) -> Readiness:
    """Run every check concurrently, each named by its function's name, none longer than ``timeout_s``."""
    reasons = await asyncio.gather(*(_failure(check, timeout_s) for check in checks))
    names = [check.__name__ for check in checks]
    return Readiness(
        checks={name: reason is None for name, reason in zip(names, reasons, strict=True)},
        reasons={name: reason for name, reason in zip(names, reasons, strict=True) if reason is not None},
    )


async def _failure(check: ReadinessCheck, timeout_s: float) -> str | None:
    """None when the check passed, else why it did not."""
    try:
        passed = await asyncio.wait_for(check(), timeout_s)
    except NotReady as error:
        return str(error)
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except Exception as error:  # a probe reports failure, it never raises
        return f"{type(error).__name__}: {error}"
    return None if passed else "check returned false"
