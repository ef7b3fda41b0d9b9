"""IP whitelisting (aansluitproces PRE 2.5): DSO-LV resolves to its published ingress addresses,
each ingress address is reachable over TCP and TLS from the adapter host, and the adapter's
allow list lets every published DSO egress address in.

In local mode the same checks run against the simulator on loopback. Inbound reachability itself
is only proven by a received Pong or trigger (PRE 2.6, the ping-pong suite), which compares its
source address with the egress list. All checks are read-only.
"""

from __future__ import annotations

import pytest
from cryptography import x509

from pytest_dso.environments import EnvironmentProfile
from pytest_dso.findings import Finding
from pytest_dso.network.dns import check_resolves_into
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.whitelist import AllowList, check_allow_list_covers, check_ingress_reach
from pytest_dso.pkio.identity import Identity
from pytest_dso.settings import DsoSettings
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health, pytest.mark.dso_step("PRE 2.5")]


def test_dso_hosts_resolve_inside_the_ingress_list(
    dso_environment: EnvironmentProfile,
    dso_ingress_ips: tuple[str, ...],
    dso_network_timeout: float,
) -> None:
    """Every DSO-LV host name resolves, and only to published ingress addresses."""
    findings = [
        f
        for host in dso_environment.dso_hosts
        for f in check_resolves_into(host, dso_ingress_ips, dso_network_timeout)
    ]
    expect_clean(findings, "DNS of the DSO-LV hosts")


def test_each_ingress_address_is_reachable_over_tcp_and_tls(
    dso_ingress_endpoints: tuple[Endpoint, ...],
    dso_ingress_server_hostname: str | None,
    dso_identity: Identity,
    dso_trust_anchors: tuple[x509.Certificate, ...],
    dso_network_timeout: float,
) -> None:
    """From this host, TCP to port 443 and a TLS handshake succeed on every ingress address."""
    findings = check_ingress_reach(
        dso_ingress_endpoints,
        identity=dso_identity,
        trust=dso_trust_anchors,
        server_hostname=dso_ingress_server_hostname,
        timeout=dso_network_timeout,
    )
    expect_clean(findings, "reach of the DSO ingress addresses")


def test_allow_list_covers_every_dso_egress_address(
    dso_allow_list: tuple[AllowList, tuple[Finding, ...]],
    dso_egress_ips: tuple[str, ...],
    dso_settings: DsoSettings,
) -> None:
    """The adapter's inbound allow list contains every published DSO egress address."""
    allow, read_findings = dso_allow_list
    findings = [
        *read_findings,
        *check_allow_list_covers(
            allow, dso_egress_ips, adapter_host=dso_settings.file.network.adapter_host
        ),
    ]
    expect_clean(findings, "allow list")
