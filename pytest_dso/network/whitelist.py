"""IP whitelisting (aansluitproces PRE 2.5): the adapter's allow list, ingress reach and the
source address of what DSO-LV sends.

DSO-LV publishes two lists (``aansluitproces.md`` §7): *egress* addresses, from which triggers,
Pongs and Acks arrive (allow them as sources on the adapter's inbound firewall), and *ingress*
addresses, the DSO-LV endpoints the adapter connects to on port 443 (allow them as
destinations). The allow list is ``[network] allow_from`` and/or ``allow_from_file`` (one address
or CIDR block per line, ``#`` starts a comment).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.guides import guide
from pytest_dso.network.dns import IpNetwork
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.handshake import CLIENT_CERTIFICATE_REJECTED, client_context, handshake
from pytest_dso.network.tcp import tcp_connect, tcp_findings
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.tls_errors import classify_failure, exception_chain

#: Entries with a shorter prefix than this (IPv4 /16, IPv6 /32) allow so many sources that
#: the whitelist hardly protects anything; they are reported as a WARNING.
BROAD_IPV4_PREFIX = 16
BROAD_IPV6_PREFIX = 32


@dataclass(frozen=True)
class AllowEntry:
    """One allowed source: the network, the text it was written as and where (file:line)."""

    network: IpNetwork
    text: str
    origin: str

    def covers(self, address: str) -> bool:
        """True when ``address`` falls in this entry."""
        ip = _normalise(address)
        return ip is not None and ip.version == self.network.version and ip in self.network


@dataclass(frozen=True)
class AllowList:
    """The adapter's allowed inbound sources, and where they were read from."""

    entries: tuple[AllowEntry, ...] = ()
    sources: tuple[str, ...] = ()

    def covering(self, address: str) -> tuple[AllowEntry, ...]:
        """The entries that cover ``address``."""
        return tuple(e for e in self.entries if e.covers(address))

    def __bool__(self) -> bool:
        return bool(self.entries)


def _normalise(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _too_broad(network: IpNetwork) -> bool:
    limit = BROAD_IPV4_PREFIX if network.version == 4 else BROAD_IPV6_PREFIX
    return network.prefixlen < limit


def parse_allow_entries(
    lines: Iterable[str], origin: str, *, numbered: bool = True
) -> tuple[tuple[AllowEntry, ...], list[Finding]]:
    """Parse allow-list lines: an IPv4/IPv6 address or CIDR block each; ``#`` comments and blank
    lines are skipped. Bad lines are ERRORs naming ``origin:line``; host bits set in a CIDR
    block and very broad blocks are WARNINGs."""
    entries: list[AllowEntry] = []
    findings: list[Finding] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        where = f"{origin}:{number}" if numbered else f"{origin}[{number - 1}]"
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            findings.append(error(
                "network.allowlist.bad_entry",
                f"{text!r} is not an IP address or CIDR block",
                "write one address (147.181.12.102) or block (147.181.12.0/24) per line; host "
                "names and ranges are not allowed",
                where=where,
            ))
            continue
        if "/" in text and network.network_address != ipaddress.ip_interface(text).ip:
            findings.append(warning(
                "network.allowlist.host_bits",
                f"{text} has host bits set; it stands for {network}",
                f"write {network} (or the single address with /32) to say what you mean",
                where=where,
            ))
        if _too_broad(network):
            findings.append(warning(
                "network.allowlist.too_broad",
                f"{network} allows {network.num_addresses} source addresses; the whitelist then "
                "hardly restricts anything",
                "allow only the published DSO egress addresses",
                where=where,
            ))
        entries.append(AllowEntry(network, text, where))
    return tuple(entries), findings


def load_allow_file(path: Path) -> tuple[tuple[AllowEntry, ...], list[Finding]]:
    """Read an allow-list file (one address or CIDR per line, comments allowed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return (), [error(
            "network.allowlist.unreadable",
            f"cannot read the allow-list file: {exc}",
            "check [network] allow_from_file in dso.toml (paths are relative to dso.toml)",
            where=str(path),
        )]
    return parse_allow_entries(text.splitlines(), str(path))


def load_allow_list(
    allow_from: Sequence[str] = (), allow_from_file: Path | None = None
) -> tuple[AllowList, list[Finding]]:
    """The allow list from ``[network] allow_from`` and ``allow_from_file`` together.

    Nothing configured is an ERROR (``network.allowlist.missing``): without it the harness
    cannot tell whether the adapter's firewall lets DSO-LV in.
    """
    entries: list[AllowEntry] = []
    findings: list[Finding] = []
    sources: list[str] = []
    if allow_from:
        got, found = parse_allow_entries(allow_from, "[network] allow_from", numbered=False)
        entries += got
        findings += found
        sources.append("[network] allow_from")
    if allow_from_file is not None:
        got, found = load_allow_file(allow_from_file)
        entries += got
        findings += found
        sources.append(str(allow_from_file))
    if not sources:
        findings.append(error(
            "network.allowlist.missing",
            "no allow list configured: the harness cannot check the adapter's inbound firewall",
            "list the addresses your firewall lets in on the adapter's port in dso.toml, as "
            "[network] allow_from = [\"147.181.12.102\", ...] or allow_from_file = \"allow.txt\"",
        ))
    return AllowList(tuple(entries), tuple(sources)), findings


def check_allow_list_covers(
    allow: AllowList, egress: Sequence[str], *, adapter_host: str | None = None, port: int = 443
) -> list[Finding]:
    """Every published egress address must be allowed in; one ERROR per missing address
    (``network.allowlist.egress_missing``) with the firewall rule to add."""
    if not allow.entries:
        return []
    target = adapter_host or "the Digikoppeling adapter"
    findings: list[Finding] = []
    covered: list[str] = []
    for address in egress:
        hits = allow.covering(address)
        if hits:
            covered.append(f"{address} (by {hits[0].text} at {hits[0].origin})")
            continue
        single = "/32" if ":" not in address else "/128"
        findings.append(error(
            "network.allowlist.egress_missing",
            f"DSO egress address {address} is not in the allow list "
            f"({', '.join(allow.sources)}); triggers, Pongs and Acks from it will be blocked",
            f"add an inbound firewall rule: allow TCP {port} from {address}{single} to {target}, "
            f"and add {address} to [network] allow_from",
            where=address,
            address=address,
        ))
    if covered:
        findings.append(info(
            "network.allowlist.egress_covered",
            "allowed DSO egress addresses: " + "; ".join(covered),
        ))
    return findings


def check_ingress_reach(
    endpoints: Sequence[Endpoint],
    *,
    identity: Identity | None = None,
    trust: Sequence[x509.Certificate] = (),
    server_hostname: str | None = None,
    timeout: float = 5.0,
) -> list[Finding]:
    """From this host, TCP and then a verified TLS handshake to every ingress endpoint.

    The handshake sends ``server_hostname`` (the DSO host name; the address itself when not
    given) as SNI and verifies the server's chain against ``trust`` and its name against
    ``server_hostname``, so a middlebox or another server answering on the address fails
    (``network.ingress.wrong_server``). A TCP failure is an ERROR (refused, timeout,
    unreachable); another failed handshake is an ERROR (classified by
    ``transport.tls_errors.classify_failure``), except that a rejected client certificate is a
    WARNING: the endpoint is reachable, the TLS suite reports the certificate problem.
    """
    findings: list[Finding] = []
    if not endpoints:
        return [error("network.ingress.none", "no ingress endpoints to check",
                      "the environment profile lists no ingress addresses")]
    for endpoint in endpoints:
        tcp = tcp_connect(endpoint, timeout)
        if not tcp.ok:
            findings += tcp_findings(tcp, timeout, what="DSO ingress")
            continue
        name = server_hostname or endpoint.host
        context = client_context(identity, trust, verify=True)
        result = handshake(endpoint, context, server_hostname=name, timeout=timeout,
                           await_alert=0.3 if identity is not None else 0.0)
        where = str(endpoint)
        verify_error = next((e for e in exception_chain(result.error)
                             if isinstance(e, ssl.SSLCertVerificationError)), None) \
            if result.error is not None else None
        if result.ok:
            findings.append(info(
                "network.ingress.reached",
                f"DSO ingress {endpoint} reached from {tcp.source}: TCP and TLS "
                f"({result.version}) in {tcp.seconds * 1000:.0f} ms; the server proved to be "
                f"{name} (chain and name verified)",
                where=where, source=tcp.source or "", server_name=name,
            ))
        elif verify_error is not None:
            reason = str(verify_error.verify_message or verify_error.reason or verify_error)
            findings.append(error(
                "network.ingress.wrong_server",
                f"DSO ingress {endpoint} answers, but the server there is not {name}: its "
                f"certificate does not verify ({reason})",
                "something else answers on this address (a proxy, a firewall that intercepts "
                "TLS, or a stale DNS/hosts entry): allow direct outbound TLS to the DSO ingress "
                "addresses; for a rehearsal against dso-sim, trust its root ([certificate] "
                "trust_anchors) and use a host name in its certificate (the rehearsal guide: "
                f"{guide('rehearsal.md')})",
                where=where, server_name=name,
            ))
        elif result.reason in CLIENT_CERTIFICATE_REJECTED:
            findings.append(warning(
                "network.ingress.client_rejected",
                f"DSO ingress {endpoint} is reachable but rejects our client certificate "
                f"({result.reason})",
                "see the TLS and certificate checks; DSO-LV must know your PKIoverheid "
                "certificate (CPA, mandate)",
                where=where,
            ))
        elif result.error is not None:
            verdict = classify_failure(result.error, url=where,
                                       what=f"TCP to DSO ingress {endpoint} works, but TLS")
            findings.append(replace(verdict, where=where, hint=f"{verdict.hint}; {_PROXY_HINT}"))
        else:
            findings.append(error(
                "network.ingress.tls_failed",
                f"TCP to DSO ingress {endpoint} works but the TLS handshake fails: "
                f"{result.reason}",
                _PROXY_HINT,
                where=where, detail=result.detail,
            ))
    return findings


_PROXY_HINT = (
    "a proxy or firewall may intercept TLS on port 443; allow direct outbound TLS to the DSO "
    "ingress addresses"
)


def check_source_ip(
    observed: str, egress: Sequence[str], *, what: str = "message"
) -> list[Finding]:
    """Compare the source address of a received Pong or trigger with the egress list.

    Outside the list is a WARNING (``network.source.unexpected``): the message did arrive, but
    the published list is out of date or something between DSO-LV and the adapter (NAT, a
    reverse proxy) rewrites the source address.
    """
    ip = _normalise(observed)
    if ip is None:
        return [error("network.source.invalid",
                      f"the recorded source address of the {what}, {observed!r}, is not an IP "
                      "address", "record the peer address of the connection (not a host name)")]
    networks = [ipaddress.ip_network(e, strict=False) for e in egress]
    if any(ip.version == n.version and ip in n for n in networks):
        return [info("network.source.egress",
                     f"the {what} came from {ip}, a published DSO egress address", where=str(ip))]
    return [warning(
        "network.source.unexpected",
        f"the {what} came from {ip}, which is not a published DSO egress address "
        f"({', '.join(egress)})",
        "if a reverse proxy or load balancer sits in front of the adapter, compare the address "
        "it forwards (e.g. X-Forwarded-For); otherwise ask DSO-beheer for the current egress list",
        where=str(ip),
    )]
