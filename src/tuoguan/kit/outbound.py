"""URLs the server calls (webhooks, carriers' APIs), kept from reaching internal addresses.

A URL someone gives tuoguan to call is checked twice. When it is registered,
``check_url`` checks its form (http or https, https only in production, a host,
no credentials, no control characters, whitespace or %00, a bounded length)
and refuses a host that is internal on its face: a loopback, private,
link-local, multicast, reserved or unspecified IP address in any spelling
(``0x7f.1``, ``2130706433``, ``[::ffff:127.0.0.1]``), or a name such as
``localhost``. When it is called, the client from ``client`` resolves the host
itself, refuses it if ANY address it resolves to is internal, and opens the
TCP connection to the address it checked, so a name that resolves elsewhere a
moment later (DNS rebinding) cannot turn the request inward. Only the TCP
connect is pinned: the Host header, TLS SNI and the certificate check still use
the host name. The client follows no redirects and reads no proxy settings
from the environment.

An explicit allow-list (``TUOGUAN_OUTBOUND_ALLOW``: host names, IP addresses or
CIDR blocks) lets a development or test setup reach its local services.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import httpcore
import httpx
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError


class Settings(Protocol):
    """The two settings the policy reads (``tuoguan.config.Settings`` has them; kit sits below it)."""

    @property
    def outbound_allow(self) -> str: ...

    @property
    def environment(self) -> str: ...


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 500
# Names that only ever mean a machine on the inside (RFC 6761, 6762, 8375; ICANN's .internal).
_INTERNAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# A host made of numbers only is an IPv4 address to URL parsers and getaddrinfo alike,
# whatever its spelling: 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 all mean 127.0.0.1.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$")
_ENCODED_CONTROL = re.compile(r"%(0[0-9a-f]|1[0-9a-f]|7f)", re.IGNORECASE)
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class OutboundRefused(Exception):
    """A URL the server will not call; ``reason`` is short and safe to show to whoever gave it."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


class Unresolvable(httpcore.ConnectError):
    """The host name resolves to nothing (retried: DNS may be fixed)."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What the server may call: https only (production), and the explicitly allowed inside."""

    https_only: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> OutboundPolicy:
        """The policy the settings describe."""
        hosts, networks = parse_allow(settings.outbound_allow)
        return cls(https_only=settings.environment == "production", hosts=hosts, networks=networks)

    def allows(self, ip: IPAddress) -> bool:
        """Whether the allow-list lets this (internal) address be called."""
        plain = _unmapped(ip)
        return any(
            candidate in network
            for network in self.networks
            for candidate in {ip, plain}
            if candidate.version == network.version
        )


def parse_allow(text: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """The allow-list setting: comma-separated host names, IP addresses and CIDR blocks."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in text.replace(" ", ",").split(","):
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        if not all(_LABEL.match(label) for label in entry.split(".")):
            raise ValueError(f"outbound allow-list entry {raw.strip()!r} is no host, IP or CIDR")
        hosts.add(entry)
    return frozenset(hosts), tuple(networks)


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64), which it may reach."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def internal_kind(ip: IPAddress) -> str | None:
    """Why an address is internal (loopback, private...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in _embedded(ip):
            kind = internal_kind(inner)
            if kind is not None:
                return kind
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared", ip in _SHARED),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-global", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _ipv4_numeric(host: str) -> ipaddress.IPv4Address | None:
    """The address a numbers-only host means, as URL parsers read it (WHATWG, inet_aton)."""
    if not _NUMERIC_HOST.match(host):
        return None
    parts = host.rstrip(".").split(".")
    values = []
    for part in parts:
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise OutboundRefused("url_host", "the host is not a valid IPv4 address")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (5 - len(values)):
        raise OutboundRefused("url_host", "the host is not a valid IPv4 address")
    number = last
    for position, value in enumerate(leading):
        number += value << (8 * (3 - position))
    return ipaddress.IPv4Address(number)


@dataclass(frozen=True)
class Target:
    """A URL's parts that decide where a request goes."""

    scheme: str
    host: str  # lower case, no brackets, no trailing dot
    port: int
    ip: IPAddress | None = field(default=None)


def check_form(url: str, *, https_only: bool = False, max_length: int = MAX_URL_LENGTH) -> Target:
    """Refuse a URL that is not a plain http(s) URL to a named or numbered host."""
    if len(url) > max_length:
        raise OutboundRefused("url_too_long", f"the URL is longer than {max_length} characters")
    if any(
        unicodedata.category(ch) in _UNPRINTABLE or ch == "\\" for ch in url
    ) or _ENCODED_CONTROL.search(url):
        raise OutboundRefused(
            "url_characters", "the URL contains whitespace, control characters, %00 or '\\'"
        )
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused("url_scheme", "the URL must start with https:// or http://")
    if https_only and scheme != "https":
        raise OutboundRefused("https_required", "the URL must use https")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise OutboundRefused("url_credentials", "the URL may not carry a user name or password")
    host, port = _host_port(authority, scheme)
    if host.startswith("["):
        if "%" in host:
            raise OutboundRefused("url_host", "the host may not carry an IPv6 zone")
        try:
            ip: IPAddress | None = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise OutboundRefused("url_host", "the host is not a valid IPv6 address") from None
        return Target(scheme, host[1:-1], port, ip)
    if not host.isascii():
        raise OutboundRefused("url_host", "write the host name in ASCII (punycode, xn--)")
    host = host.lower().rstrip(".")
    ip = _ipv4_numeric(host)
    if ip is None:
        labels = host.split(".")
        if not all(_LABEL.match(label) for label in labels) or len(host) > 253:
            raise OutboundRefused("url_host", "the URL has no valid host name")
        if re.fullmatch(r"[0-9]+", labels[-1]):
            raise OutboundRefused("url_host", "the host is not a valid IPv4 address")
    return Target(scheme, host, port, ip)


def _host_port(authority: str, scheme: str) -> tuple[str, int]:
    default = 443 if scheme == "https" else 80
    if authority.startswith("["):
        end = authority.find("]")
        host, after = authority[: end + 1], authority[end + 1 :]
        if end < 0 or (after and not after.startswith(":")):
            raise OutboundRefused("url_host", "the URL has no valid host")
        port_text = after[1:] if after else ""
    else:
        host, _, port_text = authority.partition(":")
    if not host or host == "[]":
        raise OutboundRefused("url_host", "the URL has no host")
    if not port_text:
        return host, default
    # ASCII digits only: str.isdigit() takes Arabic-Indic digits and superscripts, int() not all.
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
        raise OutboundRefused("url_port", "the port must be a number from 1 to 65535")
    return host, int(port_text)


def check_url(url: str, policy: OutboundPolicy, *, max_length: int = MAX_URL_LENGTH) -> Target:
    """Refuse, when it is registered, a URL the server must not call (no DNS is asked)."""
    target = check_form(url, https_only=policy.https_only, max_length=max_length)
    if target.host in policy.hosts:
        return target
    if target.ip is not None:
        kind = internal_kind(target.ip)
        if kind is not None and not policy.allows(target.ip):
            raise OutboundRefused(
                "internal_address", f"the URL points to an internal ({kind}) address"
            )
        if str(target.ip) != target.host and target.ip.version == 4:
            raise OutboundRefused("url_host", "write an IPv4 address as four decimal numbers")
        return target
    if (
        target.host in _INTERNAL_NAMES
        or target.host.endswith(_INTERNAL_SUFFIXES)
        or "." not in target.host
    ):
        raise OutboundRefused("internal_address", "the URL names an internal host")
    return target


async def resolve(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """The addresses to connect to for ``host``; refused if any of them is internal."""
    name = host.lower().rstrip(".")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {name}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolvable(f"{name} resolves to no address")
    if name in policy.hosts:
        return addresses
    for address in addresses:
        try:
            ip: IPAddress = ipaddress.ip_address(address)
        except ValueError:  # e.g. fe80::1%eth0, scoped: link-local
            raise OutboundRefused(
                "internal_address", "the host resolves to an internal address"
            ) from None
        if internal_kind(ip) is not None and not policy.allows(ip):
            raise OutboundRefused("internal_address", "the host resolves to an internal address")
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Every TCP connection the client opens goes to an address ``resolve`` checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port, self.policy)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("url_host", "unix sockets are not reachable")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over a connection pool whose network backend is the guard."""

    def __init__(self, policy: OutboundPolicy) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx offers no parameter for the network backend, so the pool it built is
        # replaced by the same pool over the guard; fail loudly if httpx ever moves it.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx changed its transport: the outbound guard cannot attach")
        self.policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.policy.https_only and request.url.scheme != "https":
            raise OutboundRefused("https_required", "the URL must use https")
        return await super().handle_async_request(request)


class GuardedClient(httpx.AsyncClient):
    """An HTTP client for URLs the server was given: guarded, no redirects, no env proxies."""

    def __init__(self, policy: OutboundPolicy, *, timeout: float) -> None:
        super().__init__(
            transport=_GuardedTransport(policy),
            follow_redirects=False,
            trust_env=False,
            timeout=timeout,
        )


def well_formed(url: str) -> str:
    """``check_form`` as a pydantic validator: a refusal is a validation error named by its rule."""
    try:
        check_form(url)
    except OutboundRefused as exc:  # a validation error whose type names the rule
        raise PydanticCustomError(exc.rule, exc.reason) from None
    return url


# An http(s) URL in a request body: well formed, printable, bounded (issue 10). URLs the
# server will call are further checked against the policy by ``check_url``.
WebUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH),
    AfterValidator(well_formed),
]
