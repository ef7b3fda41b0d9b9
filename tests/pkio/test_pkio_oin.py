"""OIN parsing and the certificate OIN check."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.findings import Finding, Severity
from pytest_dso.pkio.oin import check_oin, explain_oin, parse_oin, same_oin, split_otap_suffix
from pytest_dso.pkio.testpki import Issued


def by_severity(findings: list[Finding], severity: Severity) -> list[str]:
    return [f.check for f in findings if f.severity == severity]


@pytest.mark.parametrize(
    ("oin", "meaning", "hoofdnummer", "suffix"),
    [
        ("00000001002220647000", "RSIN (Handelsregister)", "002220647", "000"),
        ("00000002123456789000", "Fi-nummer (Belastingdienst)", "123456789", "000"),
        ("00000003273000450000", "KvK-nummer", "27300045", "0000"),
        ("00000004114202890000", "SubOIN", "114202890", "000"),
        ("00000006123456789000", "Logius-assigned hoofdnummer", "123456789", "000"),
        ("00000007123456789000", "BRIN (onderwijs)", "123456789", "000"),
        ("00000008823631400000", "foreign organisation (via a SubOIN-beheerder)", "823631400",
         "000"),
        ("00000009123456789000", "UZI-nummer (zorg)", "123456789", "000"),
        ("00000010123456789000", "TRR-BD (Belastingdienst restgroepen)", "123456789", "000"),
        ("00000099999999910000", "test OIN", "999999910", "000"),
    ],
)
def test_prefixes(oin: str, meaning: str, hoofdnummer: str, suffix: str) -> None:
    parsed = parse_oin(oin)
    assert parsed.valid
    assert parsed.meaning == meaning
    assert (parsed.hoofdnummer, parsed.suffix) == (hoofdnummer, suffix)
    assert parsed.is_test == (parsed.prefix == "00000099")
    assert meaning in explain_oin(oin)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0000000100222064700", "20 digits"),
        ("0000000100222064700A", "digits only"),
        ("00000005123456789000", "not an assigned OIN prefix"),
    ],
)
def test_invalid_oins(text: str, problem: str) -> None:
    parsed = parse_oin(text)
    assert not parsed.valid
    assert problem in parsed.problem
    assert "not a valid OIN" in explain_oin(text)


@pytest.mark.parametrize("suffix", ["_T", "_A", "_O", "_OTA"])
def test_otap_suffixes_are_not_part_of_the_oin(suffix: str) -> None:
    oin = "00000001002220647000"
    assert split_otap_suffix(oin + suffix) == (oin, suffix)
    assert parse_oin(oin + suffix).valid
    assert same_oin(oin + suffix, oin)


def test_no_suffix() -> None:
    assert split_otap_suffix("00000001002220647000") == ("00000001002220647000", None)
    assert not same_oin("00000001002220647000", "00000001002220648000")


def test_matching_oin_is_clean(good: Issued, leaf_oin: str) -> None:
    findings = check_oin(good.certificate, leaf_oin, "local")
    assert by_severity(findings, Severity.ERROR) == []
    assert by_severity(findings, Severity.WARNING) == []
    assert "pkio.oin.present" in by_severity(findings, Severity.INFO)


def test_expected_oin_with_otap_suffix_matches(good: Issued, leaf_oin: str) -> None:
    findings = check_oin(good.certificate, leaf_oin + "_T", "local")
    assert by_severity(findings, Severity.ERROR) == []


def test_no_oin_is_a_finding_not_a_crash(issue: Callable[..., Issued]) -> None:
    findings = check_oin(issue(oin=None).certificate, "00000001002220647000", "pre")
    assert by_severity(findings, Severity.ERROR) == ["pkio.oin.missing"]
    missing = next(f for f in findings if f.check == "pkio.oin.missing")
    assert "serialNumber" in missing.message
    assert "TSP" in missing.hint


def test_malformed_serial_number(issue: Callable[..., Issued]) -> None:
    findings = check_oin(issue(oin="KVK-12345678").certificate, None, "local")
    assert by_severity(findings, Severity.ERROR) == ["pkio.oin.malformed"]


def test_unknown_prefix_warns(issue: Callable[..., Issued]) -> None:
    findings = check_oin(issue(oin="00000005123456789000").certificate, None, "local")
    assert by_severity(findings, Severity.WARNING) == ["pkio.oin.unknown_prefix"]


def test_wrong_oin(good: Issued, leaf_oin: str) -> None:
    expected = "00000001002220647000"
    findings = check_oin(good.certificate, expected, "local")
    assert by_severity(findings, Severity.ERROR) == ["pkio.oin.mismatch"]
    mismatch = next(f for f in findings if f.check == "pkio.oin.mismatch")
    assert leaf_oin in mismatch.message
    assert expected in mismatch.message
    assert "dso.toml" in mismatch.hint
    assert "certificate with your OIN" in mismatch.hint


@pytest.mark.parametrize("env", ["pre", "prod"])
def test_test_oin_warns_on_pre_and_prod(good: Issued, leaf_oin: str, env: str) -> None:
    findings = check_oin(good.certificate, leaf_oin, env)
    assert by_severity(findings, Severity.WARNING) == ["pkio.oin.test_oin"]
    assert by_severity(findings, Severity.ERROR) == []


def test_test_oin_is_fine_locally(good: Issued, leaf_oin: str) -> None:
    assert by_severity(check_oin(good.certificate, leaf_oin, "local"), Severity.WARNING) == []


def test_real_oin_on_pre_does_not_warn(issue: Callable[..., Issued]) -> None:
    oin = "00000001002220647000"
    findings = check_oin(issue(oin=oin).certificate, oin, "pre")
    assert by_severity(findings, Severity.WARNING) == []
    assert by_severity(findings, Severity.ERROR) == []


@pytest.mark.parametrize(
    ("org_id", "severity", "text"),
    [
        (None, Severity.INFO, "no organizationIdentifier"),
        ("NTRNL-12345678", Severity.INFO, "organizationIdentifier is NTRNL-12345678"),
        ("VATNL-123456789B01", Severity.INFO, "G4 profile expects"),
        ("12345678", Severity.WARNING, "not an ETSI identifier"),
    ],
)
def test_organization_identifier(
    issue: Callable[..., Issued], org_id: str | None, severity: Severity, text: str
) -> None:
    findings = check_oin(issue(organization_identifier=org_id).certificate, None, "local")
    found = [f for f in findings if f.check == "pkio.oin.organization_identifier"]
    assert len(found) == 1
    assert found[0].severity == severity
    assert text in found[0].message
