"""Examples of checks written on the pytest-dso fixtures."""

from __future__ import annotations

from pytest_dso.environments import EnvironmentProfile
from pytest_dso.findings import Finding, error
from pytest_dso.pkio.identity import Identity
from pytest_dso.settings import DsoSettings
from pytest_dso.tenants import Tenant
from pytest_dso.verdict import expect_clean


def test_every_klant_is_covered_by_a_certificate(dso_tenants: tuple[Tenant, ...]) -> None:
    findings: list[Finding] = []
    for tenant in dso_tenants:
        if tenant.identity is None:
            findings.append(error("example.identity", f"{tenant.name} has no certificate"))
    expect_clean(findings)


def test_our_certificate_carries_the_leverancier_or_digikoppelaar_oin(
    dso_identity: Identity, dso_settings: DsoSettings
) -> None:
    assert dso_identity.oin is not None, "the certificate has no OIN in subject serialNumber"
    if dso_settings.env != "local":
        leverancier = dso_settings.leverancier()
        assert leverancier is not None
        assert dso_identity.oin == leverancier.oin


def test_the_environment_publishes_where_triggers_come_from(
    dso_environment: EnvironmentProfile,
) -> None:
    assert dso_environment.egress_ips, "no DSO egress addresses to allow on the firewall"
