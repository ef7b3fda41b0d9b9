"""DNS: resolve a host with a timeout and compare its addresses with the published ingress list."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_dso.findings import Finding, error, info, warning

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Resolution:
    """The addresses ``host`` resolved to (sorted, unique), or why it did not resolve."""

    host: str
    addresses: tuple[str, ...]
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when at least one address was found."""
        return bool(self.addresses)


def _lookup(host: str) -> tuple[str, ...]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    found = {str(ipaddress.ip_address(str(i[4][0]).split("%")[0])) for i in infos}
    return tuple(sorted(found, key=lambda a: (ipaddress.ip_address(a).version, a)))


def resolve(host: str, timeout: float = 5.0) -> Resolution:
    """Resolve ``host`` (A and AAAA) within ``timeout`` seconds.

    ``getaddrinfo`` has no timeout of its own, so it runs in a daemon thread that is abandoned
    (not waited for) when the timeout passes.
    """
    start = time.monotonic()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return Resolution(host, (str(literal),), 0.0)
    found: list[tuple[str, ...]] = []
    failed: list[str] = []
    done = threading.Event()

    def work() -> None:
        try:
            found.append(_lookup(host))
        except (OSError, UnicodeError, ValueError) as exc:
            failed.append(str(exc) or type(exc).__name__)
        finally:
            done.set()

    threading.Thread(target=work, name=f"dso-dns-{host}", daemon=True).start()
    if not done.wait(timeout):
        return Resolution(host, (), time.monotonic() - start, f"no answer within {timeout:g}s")
    seconds = time.monotonic() - start
    if failed or not found:
        return Resolution(host, (), seconds, failed[0] if failed else "no answer")
    addresses = found[0]
    return Resolution(host, addresses, seconds, "" if addresses else "no addresses")


def parse_networks(entries: Sequence[str]) -> tuple[IpNetwork, ...]:
    """Addresses or CIDR blocks as networks; raises ``ValueError`` naming a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR block") from None
    return tuple(networks)


def outside(addresses: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """The ``addresses`` that fall in none of the ``allowed`` addresses or CIDR blocks."""
    networks = parse_networks(allowed)
    return tuple(
        a for a in addresses if not any(ipaddress.ip_address(a) in n for n in networks)
    )


def check_resolution(resolution: Resolution, ingress: Sequence[str]) -> list[Finding]:
    """Findings for a resolution compared with the published ``ingress`` list.

    Not resolving is an ERROR (``network.dns.unresolved``); addresses outside the list are a
    WARNING (``network.dns.drift``: the published list or your firewall rules are out of date);
    otherwise one INFO with the addresses.
    """
    host = resolution.host
    if not resolution.ok:
        return [
            error(
                "network.dns.unresolved",
                f"{host} does not resolve: {resolution.error}",
                "check the DNS configuration of the adapter host (resolv.conf, split DNS, "
                "proxy); the DSO-LV hosts must resolve from where the adapter runs",
                where=host,
            )
        ]
    stray = outside(resolution.addresses, ingress)
    listed = ", ".join(resolution.addresses)
    if stray:
        return [
            warning(
                "network.dns.drift",
                f"{host} resolves to {', '.join(stray)}, outside the published ingress list "
                f"({', '.join(ingress)})",
                "DSO-LV may have changed its addresses: check the current list with DSO-beheer "
                "and update the outbound firewall rules and the environment profile",
                where=host,
                addresses=listed,
            )
        ]
    return [
        info(
            "network.dns.resolved",
            f"{host} resolves to {listed}, all in the ingress list",
            where=host,
            addresses=listed,
        )
    ]


def check_resolves_into(host: str, ingress: Sequence[str], timeout: float = 5.0) -> list[Finding]:
    """Resolve ``host`` and compare with ``ingress`` (see :func:`check_resolution`)."""
    return check_resolution(resolve(host, timeout), ingress)
