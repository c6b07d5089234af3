"""Hostile servers cost bounded memory and time, and no link, redirect or DNS answer reaches inside the network.

Every server here runs on 127.0.0.1. A "public" host is a name the test's DNS script maps to a
public address, which the pretend network connects to a local stand-in; any other address is
refused by that network without a socket being opened, so nothing ever leaves the machine.
"""

from __future__ import annotations

import dataclasses
import logging
import tracemalloc
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager

import pytest
from guarded_fetching import LOCAL, NO_KEEPALIVE, polite
from hostile_site import ELSEWHERE, HostileSite, Inside, gzip_bomb, serve_hostile_site
from prometheus_client import REGISTRY

from services.fetcher.bounded_get import FetchError
from services.fetcher.collect import collect
from services.fetcher.polite_http import Page
from services.fetcher.sources import Source
from shared.article_ids import article_id_for_url
from tests.fake_network import PUBLIC_ADDRESS, ScriptedResolver, StandInNetwork
from tests.waiting import wait_until_async

# Far below what the bomb inflates to (256 MB) and below one gzip chunk's worth of it (tens of MB).
MEMORY_BOUND_BYTES = 4 * LOCAL.max_bytes


def counted(name: str, label: str, value: str) -> float:
    return REGISTRY.get_sample_value(name, {label: value}) or 0.0


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Peak bytes allocated by Python inside the block, as ``[peak]`` once it ends."""
    gzip_bomb()  # built before measuring: the server's copy is not the fetcher's cost
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


async def refused(fetch: Awaitable[Page]) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch
    return caught.value


async def hung_up(site: HostileSite, path: str) -> bool:
    """Whether the server's handler for ``path`` saw the client go (or finished sending)."""
    return path in site.finished


def stand_in_for(site: HostileSite) -> StandInNetwork:
    """A network where the public address leads to ``site``, and nowhere else."""
    return StandInNetwork({PUBLIC_ADDRESS: int(site.base.rsplit(":", 1)[1])})


async def test_a_gzip_bomb_costs_the_cap_not_its_size(hostile_site: HostileSite) -> None:
    too_large = counted("newsmon_fetches_total", "outcome", "too_large")
    async with polite() as client:
        with peak_memory() as peak:
            error = await refused(client.get(hostile_site.url("/bomb.html")))
    assert error.kind == "too_large" and not error.transient
    assert "once decoded" in str(error)
    assert peak[0] < MEMORY_BOUND_BYTES, f"{peak[0]} bytes held for a {LOCAL.max_bytes}-byte cap"
    assert counted("newsmon_fetches_total", "outcome", "too_large") == too_large + 1


async def test_a_gzip_bomb_robots_txt_skips_its_site_within_the_cap(bomb_robots_site: HostileSite) -> None:
    page = bomb_robots_site.url("/news/quota-protest")
    async with polite() as client:
        with peak_memory() as peak:
            error = await refused(client.get(page))
    assert error.kind == "too_large" and error.url == page
    assert "robots.txt" in str(error)
    assert bomb_robots_site.hits["/news/quota-protest"] == 0, "a site whose robots.txt is a bomb is not fetched"
    assert peak[0] < MEMORY_BOUND_BYTES


async def test_an_endless_body_is_cut_at_the_cap(hostile_site: HostileSite) -> None:
    async with polite(dataclasses.replace(LOCAL, max_bytes=1_000_000)) as client:
        error = await refused(client.get(hostile_site.url("/endless")))
    assert error.kind == "too_large"
    await wait_until_async(lambda: hung_up(hostile_site, "/endless"), 30, "the endless server to see the fetcher go")


async def test_a_slow_drip_costs_the_deadline_and_is_tried_again_next_poll(hostile_site: HostileSite) -> None:
    async with polite(dataclasses.replace(LOCAL, deadline_s=2.0)) as client:
        error = await refused(client.get(hostile_site.url("/drip")))
    assert error.kind == "too_slow" and error.transient
    await wait_until_async(lambda: hung_up(hostile_site, "/drip"), 30, "the dripping server to see the fetcher go")
    assert hostile_site.sent["/drip"] < 600, "the fetcher hung up long before the drip ended"


async def test_a_redirect_to_loopback_is_refused_before_connecting(hostile_site: HostileSite, inside: Inside) -> None:
    network = stand_in_for(hostile_site)
    resolver = ScriptedResolver({"news.test": [[PUBLIC_ADDRESS]]})
    async with polite(allow_private=False, resolver=resolver, network=network) as client:
        error = await refused(client.get("http://news.test/to-inside"))
    assert error.kind == "refused_address" and not error.transient
    assert "a loopback address" in str(error)
    assert "NEWSMON_FETCH_ALLOW_PRIVATE=true" in str(error)
    assert hostile_site.hits["/to-inside"] == 1, "the public hop was fetched"
    assert set(network.attempts) == {PUBLIC_ADDRESS}, "no connection was even attempted to the redirect target"
    assert inside.connections == 0


async def test_a_rebinding_dns_answer_never_gets_a_connection(hostile_site: HostileSite) -> None:
    network = stand_in_for(hostile_site)
    resolver = ScriptedResolver({"rebind.test": [[PUBLIC_ADDRESS], ["127.0.0.1"]]})
    async with polite(allow_private=False, resolver=resolver, network=network, limits=NO_KEEPALIVE) as client:
        error = await refused(client.get("http://rebind.test/news/quota-protest"))
    assert resolver.lookups == ["rebind.test", "rebind.test"], "robots.txt, then the page: one lookup per connection"
    assert error.kind == "refused_address" and "127.0.0.1" in str(error)
    assert network.attempts == [PUBLIC_ADDRESS], "connected only to the address checked, never to the second answer"
    assert hostile_site.hits["/robots.txt"] == 1 and hostile_site.hits["/news/quota-protest"] == 0


async def test_feed_links_to_private_addresses_are_refused_with_nothing_sent(
    inside: Inside, caplog: pytest.LogCaptureFixture
) -> None:
    metadata, intranet = "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/admin"
    caplog.set_level(logging.WARNING)
    skipped = counted("newsmon_fetch_skipped_total", "reason", "refused_address")
    async with serve_hostile_site(inside, extra_links=(metadata, intranet)) as site:
        network, resolver = stand_in_for(site), ScriptedResolver({"news.test": [[PUBLIC_ADDRESS]]})
        async with polite(allow_private=False, resolver=resolver, network=network) as client:
            collected = await collect(Source(name="hostile", kind="feed", url="http://news.test/feed.xml"), client)
        listed = site.feed((metadata, intranet)).count("<item>")
        assert site.hits["/feed.xml"] == 1 and sum(site.hits.values()) == 2, "only robots.txt and the feed"
    assert collected.articles == []
    assert set(network.attempts) == {PUBLIC_ADDRESS} and set(resolver.lookups) == {"news.test"}
    assert inside.connections == 0
    assert counted("newsmon_fetch_skipped_total", "reason", "refused_address") == skipped + listed
    reasons = {record.fields["url"]: record.fields["reason"]  # type: ignore[attr-defined]
               for record in caplog.records if record.getMessage() == "fetch.item_skipped"}
    assert reasons[metadata] == reasons[intranet] == "refused_address"


async def test_a_canonical_link_to_another_site_does_not_decide_the_article(hostile_site: HostileSite) -> None:
    url = hostile_site.url("/elsewhere")
    async with polite() as client:
        collected = await collect(Source(name="page", kind="page", url=url), client)
    [article] = collected.articles
    assert article.canonical_url == url and article.article_id == article_id_for_url(url)
    assert article.article_id != article_id_for_url(ELSEWHERE)
