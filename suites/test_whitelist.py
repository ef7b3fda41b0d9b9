"""IP whitelisting (aansluitproces PRE 2.5): DSO-LV resolves to its published ingress addresses,
each ingress address is reachable over TCP and TLS from the adapter host, and the adapter's
allow list lets every published DSO egress address in.

In local mode the same checks run against the simulator on loopback. Inbound reachability itself
is only proven by a received Pong or trigger (PRE 2.6, the ping-pong suite), which compares its
source address with the egress list. All checks are read-only.
"""

from __future__ import annotations

import pytest

from pytest_dso.findings import Finding
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health, pytest.mark.dso_step("PRE 2.5")]


def test_dso_hosts_resolve_inside_the_ingress_list(dso_dns_findings: tuple[Finding, ...]) -> None:
    """Every DSO-LV host name resolves, and only to published ingress addresses."""
    expect_clean(dso_dns_findings, "DNS of the DSO-LV hosts")


def test_each_ingress_address_is_reachable_over_tcp_and_tls(
    dso_ingress_reach_findings: tuple[Finding, ...],
) -> None:
    """From this host, TCP to port 443 and a TLS handshake succeed on every ingress address."""
    expect_clean(dso_ingress_reach_findings, "reach of the DSO ingress addresses")


def test_allow_list_covers_every_dso_egress_address(
    dso_allow_list_findings: tuple[Finding, ...],
) -> None:
    """The adapter's inbound allow list contains every published DSO egress address."""
    expect_clean(dso_allow_list_findings, "allow list")
