"""The outbound guard's own promises (issue 10, finding 2), below the API tests in
tests/integration/test_outbound_guard.py: the connection goes to the address that was checked,
with the Host header kept, and addresses hidden inside IPv6 forms are seen."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders.webhooks import Receiver
from tuoguan.kit.outbound import (
    GuardedClient,
    OutboundPolicy,
    OutboundRefused,
    check_url,
    parse_allow,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _resolving(name: str, address: str) -> Any:
    """A resolver that knows one made-up name (as a DNS answer would) and nothing else."""
    real = asyncio.get_running_loop().getaddrinfo

    async def getaddrinfo(host: str, port: int, **kw: Any) -> Any:
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return await real(host, port, **kw)

    return getaddrinfo


def _post(policy: OutboundPolicy, url: str) -> Any:
    async def run() -> Any:
        loop = asyncio.get_running_loop()
        loop.getaddrinfo = _resolving("hooks.test", "127.0.0.1")  # type: ignore[method-assign]
        async with GuardedClient(policy, timeout=5) as client:
            return (await client.post(url, content=b"{}")).status_code

    return asyncio.run(run())


def test_the_connection_goes_to_the_checked_address_and_keeps_the_host_name(
    receiver: Receiver,
) -> None:
    # given a name whose only answer is 127.0.0.1, and a policy that allows that address
    _, networks = parse_allow("127.0.0.1")
    # when the client posts to the name
    status = _post(OutboundPolicy(networks=networks), f"http://hooks.test:{receiver.port}/hook")
    # then it reached the address the guard resolved, asking for the name it was given
    assert status == 200
    ((headers, _),) = receiver.received
    assert headers["Host"] == f"hooks.test:{receiver.port}"


def test_a_name_resolving_inside_is_refused_before_anything_is_sent(receiver: Receiver) -> None:
    with pytest.raises(OutboundRefused) as refused:
        _post(OutboundPolicy(), f"http://hooks.test:{receiver.port}/hook")
    assert refused.value.rule == "internal_address"
    assert receiver.received == []


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
        "[::127.0.0.1]",  # IPv4-compatible
        "[fc00::1]",  # unique local
        "[ff02::1]",  # multicast
        "[::]",
        "255.255.255.255",
        "198.18.0.1",  # benchmarking
        "192.0.2.1",  # documentation
    ],
)
def test_addresses_inside_ipv6_forms_and_special_ranges_are_internal(host: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(f"https://{host}/hook", OutboundPolicy())
    assert refused.value.rule == "internal_address"


def test_public_addresses_and_names_pass_and_production_wants_https() -> None:
    for url in ("https://8.8.8.8/hook", "https://[2606:4700::1111]/", "https://hooks.example./x"):
        check_url(url, OutboundPolicy())
    with pytest.raises(OutboundRefused) as refused:
        check_url("http://hooks.example/x", OutboundPolicy(https_only=True))
    assert refused.value.rule == "https_required"


def test_the_allow_list_setting_is_checked() -> None:
    assert parse_allow("127.0.0.1, localhost,10.0.0.0/8 ,[::1]")[0] == {"localhost"}
    with pytest.raises(ValueError, match="no host, IP or CIDR"):
        parse_allow("http://127.0.0.1")


@pytest.mark.parametrize("port", ["٨٠", "²", "８０", "80a", "000443x", "+80"])
def test_a_port_is_written_in_ascii_digits(port: str) -> None:  # issue 10, finding 10
    with pytest.raises(OutboundRefused) as refused:
        check_url(f"https://hooks.example:{port}/", OutboundPolicy())
    assert refused.value.rule in ("url_port", "url_characters")
    assert "int()" not in refused.value.reason
