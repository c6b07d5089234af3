"""The address guard: which addresses are inside, and that one inside answer is enough to refuse a host."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from shared.address_guard import AddressGuard, UnsafeAddress, internal_kind
from tests.fake_network import PUBLIC_ADDRESS, ScriptedResolver


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("169.254.169.254", "link-local"),
    ("100.64.0.1", "non-public"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"), ("::1", "loopback"),
    ("fd00::1", "private"), ("::ffff:127.0.0.1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("2002:a01:203::", "private"),
    (PUBLIC_ADDRESS, None), ("2606:4700::1111", None),
])
def test_addresses_that_lead_inside_are_named_by_kind(address: str, kind: str | None) -> None:
    assert internal_kind(ipaddress.ip_address(address)) == kind


async def test_a_literal_address_is_judged_without_any_lookup() -> None:
    resolver = ScriptedResolver({})
    guard = AddressGuard(False, "fetch", "NEWSMON_FETCH_ALLOW_PRIVATE", resolver)
    with pytest.raises(UnsafeAddress, match="169.254.169.254, a link-local address; set NEWSMON_FETCH_ALLOW_PRIVATE"):
        await guard.resolve("169.254.169.254", 80)
    assert [str(address) for address in await guard.resolve(PUBLIC_ADDRESS, 80)] == [PUBLIC_ADDRESS]
    assert resolver.lookups == []


async def test_one_inside_answer_among_public_ones_refuses_the_host() -> None:
    resolver = ScriptedResolver({"mixed.test": [[PUBLIC_ADDRESS, "10.0.0.5"]]})
    with pytest.raises(UnsafeAddress, match="'mixed.test' resolves to 10.0.0.5"):
        await AddressGuard(False, "fetch", "NEWSMON_FETCH_ALLOW_PRIVATE", resolver).resolve("mixed.test", 443)


async def test_allowed_private_addresses_are_returned_once_each_in_order() -> None:
    resolver = ScriptedResolver({"intranet.test": [["10.0.0.5", "10.0.0.5", "fe80::1%eth0"]]})
    addresses = await AddressGuard(True, "fetch", "NEWSMON_FETCH_ALLOW_PRIVATE", resolver).resolve("intranet.test", 80)
    assert [str(address) for address in addresses] == ["10.0.0.5", "fe80::1"]


async def test_a_host_that_does_not_resolve_is_an_os_error_for_the_caller_to_retry() -> None:
    with pytest.raises(socket.gaierror):
        await AddressGuard(False, "fetch", "NEWSMON_FETCH_ALLOW_PRIVATE", ScriptedResolver({})).resolve("gone.test", 80)
