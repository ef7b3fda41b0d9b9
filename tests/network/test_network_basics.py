"""Endpoints, TCP reachability and DNS on loopback."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import pytest

from pytest_dso.findings import Severity, errors, with_check
from pytest_dso.network.dns import (
    Resolution,
    check_resolution,
    check_resolves_into,
    outside,
    resolve,
)
from pytest_dso.network.endpoint import Endpoint, EndpointError
from pytest_dso.network.partners import ingress_endpoints, partner_from_url, partners_from_urls
from pytest_dso.network.tcp import TcpOutcome, check_tcp, classify_os_error, tcp_connect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8443", Endpoint("127.0.0.1", 8443)),
        ("[::1]:443", Endpoint("::1", 443)),
        ("https://pkio.service.pre.omgevingswet.overheid.nl/x", Endpoint(
            "pkio.service.pre.omgevingswet.overheid.nl", 443)),
        ("http://localhost:8080/ebms", Endpoint("localhost", 8080)),
        ("dso.example", Endpoint("dso.example", 443)),
    ],
)
def test_endpoint_parse(text: str, expected: Endpoint) -> None:
    assert Endpoint.parse(text, default_port=443) == expected


@pytest.mark.parametrize("text", ["host:abc", "[::1", "host:0", "ftp://x/", "host"])
def test_endpoint_parse_rejects_with_reason(text: str) -> None:
    with pytest.raises(EndpointError, match=r"\S"):
        Endpoint.parse(text)


def test_endpoint_str_brackets_ipv6() -> None:
    assert str(Endpoint("::1", 443)) == "[::1]:443"
    assert Endpoint("::1", 1).is_ip
    assert not Endpoint("localhost", 1).is_ip


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def test_tcp_connects_to_a_listening_port(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result = tcp_connect(Endpoint("127.0.0.1", port), timeout=2)
    assert result.ok
    assert result.source == "127.0.0.1"
    findings = check_tcp(Endpoint("127.0.0.1", port), timeout=2)
    assert [f.check for f in findings] == ["network.tcp.connected"]


def test_tcp_refused_on_a_closed_port(closed_port: int) -> None:
    findings = check_tcp(Endpoint("127.0.0.1", closed_port), timeout=2, what="DSO ingress")
    assert [f.check for f in errors(findings)] == ["network.tcp.refused"]
    assert "nothing listens" in findings[0].hint
    assert f"DSO ingress 127.0.0.1:{closed_port}" in findings[0].message


def test_tcp_timeout_when_the_backlog_is_full() -> None:
    # A listener with backlog 0 that never accepts: once one connection is queued, the kernel
    # drops further SYNs, which the client sees as a timeout (as with a dropping firewall).
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            findings = check_tcp(Endpoint("127.0.0.1", port), timeout=0.3)
    assert [f.check for f in findings] == ["network.tcp.timeout"]
    assert "firewall" in findings[0].hint


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), TcpOutcome.REFUSED),
        (TimeoutError("timed out"), TcpOutcome.TIMEOUT),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), TcpOutcome.UNREACHABLE),
        (OSError(errno.EHOSTUNREACH, "No route to host"), TcpOutcome.UNREACHABLE),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), TcpOutcome.UNRESOLVED),
        (OSError(errno.EPERM, "Operation not permitted"), TcpOutcome.ERROR),
    ],
)
def test_os_errors_are_classified(exc: OSError, outcome: TcpOutcome) -> None:
    assert classify_os_error(exc) is outcome


def test_resolve_localhost_and_literals() -> None:
    assert "127.0.0.1" in resolve("localhost", timeout=5).addresses
    assert resolve("127.0.0.1").addresses == ("127.0.0.1",)


def test_resolve_reports_a_malformed_name_without_raising() -> None:
    result = resolve("bad..name", timeout=5)
    assert not result.ok
    assert result.error
    findings = check_resolution(result, ["127.0.0.1"])
    assert [f.check for f in findings] == ["network.dns.unresolved"]
    assert findings[0].severity is Severity.ERROR


def test_resolution_inside_ingress_is_info() -> None:
    findings = check_resolves_into("localhost", ["127.0.0.0/8", "::1"], timeout=5)
    assert [f.check for f in findings] == ["network.dns.resolved"]


def test_resolution_outside_ingress_is_a_drift_warning_naming_the_address() -> None:
    result = Resolution("dso.example", ("127.0.0.1", "10.1.2.3"), 0.01)
    findings = check_resolution(result, ["127.0.0.1", "147.181.37.183"])
    (drift,) = with_check(findings, "network.dns.drift")
    assert drift.severity is Severity.WARNING
    assert "10.1.2.3" in drift.message
    assert "127.0.0.1," not in drift.message.split("outside")[0]


def test_outside_accepts_cidrs_and_rejects_garbage() -> None:
    assert outside(["10.0.0.5", "192.168.1.1"], ["10.0.0.0/8"]) == ("192.168.1.1",)
    with pytest.raises(ValueError, match="'nope' is not an IP address"):
        outside(["10.0.0.5"], ["nope"])


def test_partners_from_urls_are_unique_per_host_and_port() -> None:
    partners = partners_from_urls([
        ("API afhandelen", "https://pkio.service.pre.omgevingswet.overheid.nl/overheid/x"),
        ("API bdc", "https://PKIO.service.pre.omgevingswet.overheid.nl/overheid/y"),
        ("API indienen", "https://service.pre.omgevingswet.overheid.nl:8443/publiek"),
    ])
    assert [p.source for p in partners] == ["API afhandelen", "API indienen"]
    assert partners[1].endpoint == Endpoint("service.pre.omgevingswet.overheid.nl", 8443)
    assert partners[1].server_hostname == "service.pre.omgevingswet.overheid.nl"
    assert str(partners[0]).endswith("[API afhandelen]")
    assert ingress_endpoints(["147.181.37.183"], 443) == (Endpoint("147.181.37.183", 443),)


def test_partner_must_use_https() -> None:
    with pytest.raises(EndpointError, match="not an https URL"):
        partner_from_url("http://dso.example/ebms", "[ebms] endpoint")
