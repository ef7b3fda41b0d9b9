"""Allow list parsing and coverage, ingress reach and the source address of DSO messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_dso.environments import DSO_EGRESS_IPS
from pytest_dso.findings import Severity, errors, with_check
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.whitelist import (
    check_allow_list_covers,
    check_ingress_reach,
    check_source_ip,
    load_allow_file,
    load_allow_list,
    parse_allow_entries,
)
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki, build_test_pki

ServerFactory = Callable[..., Any]

ALLOW_FILE = """\
# DSO-LV egress (aansluitproces §7)
147.181.12.102        # egress 1
147.181.36.0/24

  # indented comment, blank line above and below

192.168.10.0/24
"""


def test_file_with_comments_and_cidrs_covers_every_egress_address(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(ALLOW_FILE, encoding="utf-8")
    allow, findings = load_allow_list((), path)
    assert not findings
    texts = [e.text for e in allow.entries]
    assert texts == ["147.181.12.102", "147.181.36.0/24", "192.168.10.0/24"]
    assert allow.entries[1].origin == f"{path}:3"
    covered = check_allow_list_covers(allow, DSO_EGRESS_IPS)
    assert not errors(covered)
    assert "147.181.36.66 (by 147.181.36.0/24" in covered[0].message


def test_missing_egress_addresses_are_named_with_a_firewall_hint() -> None:
    allow, findings = load_allow_list(["147.181.12.102"])
    assert not findings
    missing = check_allow_list_covers(allow, DSO_EGRESS_IPS, adapter_host="dka.example.nl")
    (bad,) = errors(missing)
    assert bad.check == "network.allowlist.egress_missing"
    assert bad.evidence["address"] == "147.181.36.66"
    assert "allow TCP 443 from 147.181.36.66/32 to dka.example.nl" in bad.hint


def test_bad_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text("147.181.12.102\n# ok\nfirewall.example.nl\n147.181.36.300\n147.181.36.66/24\n",
                    encoding="utf-8")
    entries, findings = load_allow_file(path)
    bad = with_check(findings, "network.allowlist.bad_entry")
    assert [f.where for f in bad] == [f"{path}:3", f"{path}:4"]
    assert "'firewall.example.nl' is not an IP address" in bad[0].message
    (host_bits,) = with_check(findings, "network.allowlist.host_bits")
    assert host_bits.severity is Severity.WARNING
    assert "147.181.36.0/24" in host_bits.message
    assert len(entries) == 2


def test_inline_list_positions_and_too_broad_entries() -> None:
    entries, findings = parse_allow_entries(["0.0.0.0/0", "nope"], "[network] allow_from",
                                            numbered=False)
    assert [f.where for f in errors(findings)] == ["[network] allow_from[1]"]
    (broad,) = with_check(findings, "network.allowlist.too_broad")
    assert broad.severity is Severity.WARNING
    assert entries[0].covers("147.181.12.102")
    assert not entries[0].covers("::1")


def test_no_allow_list_and_unreadable_file_are_errors(tmp_path: Path) -> None:
    _, findings = load_allow_list()
    assert [f.check for f in findings] == ["network.allowlist.missing"]
    _, findings = load_allow_list((), tmp_path / "missing.txt")
    assert "network.allowlist.unreadable" in {f.check for f in errors(findings)}


def test_source_ip_of_a_pong_compared_with_egress() -> None:
    (ok,) = check_source_ip("147.181.12.102", DSO_EGRESS_IPS, what="Pong")
    assert ok.severity is Severity.INFO
    assert check_source_ip("::ffff:127.0.0.1", ["127.0.0.1"])[0].check == "network.source.egress"
    (odd,) = check_source_ip("198.51.100.7", DSO_EGRESS_IPS, what="trigger")
    assert odd.check == "network.source.unexpected"
    assert odd.severity is Severity.WARNING
    assert "trigger came from 198.51.100.7" in odd.message
    assert check_source_ip("dso.example", DSO_EGRESS_IPS)[0].severity is Severity.ERROR


def test_ingress_reach_over_tcp_and_tls(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity, closed_port: int
) -> None:
    server = tls_server()
    up, down = server.endpoint, Endpoint("127.0.0.1", closed_port)
    findings = check_ingress_reach([up, down], identity=client_identity,
                                   trust=pki.hierarchy.anchors, server_hostname="localhost",
                                   timeout=3)
    assert [f.check for f in findings] == ["network.ingress.reached", "network.tcp.refused"]
    assert findings[0].evidence["source"] == "127.0.0.1"
    assert findings[0].evidence["server_name"] == "localhost"


def test_ingress_reach_fails_when_the_server_is_certified_for_another_name(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    # The server answers TLS fine, but its certificate names localhost, not the DSO host.
    server = tls_server()
    (finding,) = check_ingress_reach([server.endpoint], identity=client_identity,
                                     trust=pki.hierarchy.anchors,
                                     server_hostname="service.pre.omgevingswet.overheid.nl",
                                     timeout=3)
    assert finding.check == "network.ingress.wrong_server"
    assert finding.severity is Severity.ERROR
    assert "service.pre.omgevingswet.overheid.nl" in finding.message


def test_ingress_reach_fails_when_the_server_chain_is_not_trusted(
    tls_server: ServerFactory, client_identity: Identity
) -> None:
    # The right name, but issued under a root we do not trust (an intercepting middlebox).
    other = build_test_pki(key_type="ec256")
    server = tls_server(identity=other.identity("dso-lv"), mtls=False)
    (finding,) = check_ingress_reach([server.endpoint], identity=client_identity,
                                     trust=build_test_pki(key_type="ec256").hierarchy.anchors,
                                     server_hostname="localhost", timeout=3)
    assert finding.check == "network.ingress.wrong_server"


def test_ingress_reach_with_a_rejected_client_certificate_warns(
    tls_server: ServerFactory, pki: TestPki
) -> None:
    stranger = build_test_pki(key_type="ec256").identity("digikoppelaar")
    server = tls_server()
    (finding,) = check_ingress_reach([server.endpoint], identity=stranger,
                                     trust=pki.hierarchy.anchors, server_hostname="localhost",
                                     timeout=3)
    assert finding.check == "network.ingress.client_rejected"
    assert finding.severity is Severity.WARNING


def test_ingress_reach_needs_endpoints() -> None:
    assert errors(check_ingress_reach([]))
