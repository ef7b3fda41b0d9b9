"""OINs (Organisatie-identificatienummers): parsing, explaining, and the certificate OIN check.

An OIN is 20 characters: an 8-digit prefix that names the source register, a hoofdnummer
(8 or 9 digits) and a suffix (``0000`` or ``000``). PKIoverheid puts it in the certificate's
subject serialNumber (OID 2.5.4.5). ebMS PartyIds on non-production environments may carry an
OTAP suffix (``_T``, ``_A``, ``_O`` or ``_OTA``); it is not part of the OIN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography import x509
from cryptography.x509.oid import NameOID

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.pkio.identity import subject_oin
from pytest_dso.pkio.names import attribute, subject_of

#: Prefix → meaning, after the OIN stelsel (Logius).
OIN_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "00000001": "RSIN (Handelsregister)",
        "00000002": "Fi-nummer (Belastingdienst)",
        "00000003": "KvK-nummer",
        "00000004": "SubOIN",
        "00000006": "Logius-assigned hoofdnummer",
        "00000007": "BRIN (onderwijs)",
        "00000008": "foreign organisation (via a SubOIN-beheerder)",
        "00000009": "UZI-nummer (zorg)",
        "00000010": "TRR-BD (Belastingdienst restgroepen)",
        "00000099": "test OIN",
    }
)
TEST_PREFIX = "00000099"
#: OTAP suffixes that non-production PartyIds may carry, longest first.
OTAP_SUFFIXES = ("_OTA", "_T", "_A", "_O")
_OIN_RE = re.compile(r"^[0-9]{20}$")
#: ETSI EN 319 412-1 semantics identifier: 3-letter type, 2-letter country, '-', reference.
_ORG_ID_RE = re.compile(r"^[A-Z]{3}[A-Z]{2}-\S+$")
_G4_ORG_ID_RE = re.compile(r"^NTRNL-[0-9]{8}$")


@dataclass(frozen=True)
class OinInfo:
    """What an OIN says about itself. ``problem`` is empty for a well-formed OIN."""

    value: str
    prefix: str
    meaning: str
    hoofdnummer: str
    suffix: str
    problem: str = ""

    @property
    def valid(self) -> bool:
        """True when the OIN is 20 digits with a known prefix."""
        return not self.problem

    @property
    def is_test(self) -> bool:
        """True for a test OIN (prefix ``00000099``)."""
        return self.prefix == TEST_PREFIX


def split_otap_suffix(party_id: str) -> tuple[str, str | None]:
    """``("00000001…", "_T")`` for ``"00000001…_T"``; the suffix is ``None`` when absent."""
    text = party_id.strip()
    for suffix in OTAP_SUFFIXES:
        if text.upper().endswith(suffix):
            return text[: -len(suffix)], suffix
    return text, None


def parse_oin(text: str) -> OinInfo:
    """Parse ``text`` (an OIN, possibly with an OTAP suffix) into its parts."""
    value, _suffix = split_otap_suffix(text)
    prefix = value[:8]
    meaning = OIN_PREFIXES.get(prefix, "unknown prefix")
    rest = value[8:]
    suffix_len = 4 if prefix == "00000003" else 3  # KvK: 8 digits + 0000, others 9 + 000
    hoofdnummer, suffix = rest[:-suffix_len], rest[-suffix_len:]
    problem = ""
    if not _OIN_RE.match(value):
        problem = (
            f"an OIN has 20 digits, this has {len(value)} characters"
            if len(value) != 20
            else "an OIN consists of digits only"
        )
    elif prefix not in OIN_PREFIXES:
        problem = f"prefix {prefix} is not an assigned OIN prefix"
    return OinInfo(value, prefix, meaning, hoofdnummer, suffix, problem)


def explain_oin(text: str) -> str:
    """A one-line explanation, e.g. ``00000003… = KvK-nummer 12345678 (suffix 0000)``."""
    parsed = parse_oin(text)
    if parsed.problem:
        return f"{parsed.value}: not a valid OIN ({parsed.problem})"
    return (
        f"{parsed.value} = {parsed.meaning} {parsed.hoofdnummer} "
        f"(prefix {parsed.prefix}, suffix {parsed.suffix})"
    )


def same_oin(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same OIN, ignoring OTAP suffixes and spaces."""
    return split_otap_suffix(a)[0] == split_otap_suffix(b)[0]


def _organization_identifier(certificate: x509.Certificate, where: str) -> Finding:
    value = attribute(certificate.subject, NameOID.ORGANIZATION_IDENTIFIER)
    if value is None:
        return info(
            "pkio.oin.organization_identifier",
            "the certificate has no organizationIdentifier (OID 2.5.4.97)",
            "not needed for G1 certificates; the G4 profile requires NTRNL-<KvK-nummer>",
            where=where,
        )
    if not _ORG_ID_RE.match(value):
        return warning(
            "pkio.oin.organization_identifier",
            f"organizationIdentifier {value!r} is not an ETSI identifier like NTRNL-12345678",
            "ask the TSP; the G4 profile requires NTRNL-<8-digit KvK-nummer>",
            where=where,
            organization_identifier=value,
        )
    note = "" if _G4_ORG_ID_RE.match(value) else " (the G4 profile expects NTRNL-<8 digits>)"
    return info(
        "pkio.oin.organization_identifier",
        f"organizationIdentifier is {value}{note}",
        where=where,
        organization_identifier=value,
    )


def check_oin(
    certificate: x509.Certificate, expected_oin: str | None, env: str = "local"
) -> list[Finding]:
    """Findings about the OIN in ``certificate``: present, well-formed, equal to the configured
    OIN (OTAP suffixes ignored), not a test OIN on PRE/PROD; plus organizationIdentifier."""
    where = subject_of(certificate)
    findings: list[Finding] = []
    oin = subject_oin(certificate)
    if oin is None:
        findings.append(
            error(
                "pkio.oin.missing",
                "the certificate has no OIN: subject serialNumber (OID 2.5.4.5) is absent",
                "Digikoppeling needs a PKIoverheid private services certificate with your OIN "
                "or HRN in serialNumber; ask your TSP for one",
                where=where,
            )
        )
    else:
        parsed = parse_oin(oin)
        evidence = {"oin": oin, "prefix": parsed.prefix, "meaning": parsed.meaning}
        if len(oin) != 20 or not oin.isdigit():
            findings.append(
                error(
                    "pkio.oin.malformed",
                    f"subject serialNumber {oin!r} is not an OIN: {parsed.problem}",
                    "some TSP products put another number in serialNumber; Digikoppeling needs "
                    "a certificate with your 20-digit OIN or HRN there",
                    where=where,
                    **evidence,
                )
            )
        elif parsed.problem:
            findings.append(
                warning(
                    "pkio.oin.unknown_prefix",
                    f"OIN {oin}: {parsed.problem}",
                    "check the OIN in the OIN register (oinregister.logius.nl)",
                    where=where,
                    **evidence,
                )
            )
        else:
            findings.append(
                info("pkio.oin.present", explain_oin(oin), where=where, **evidence)
            )
        if expected_oin is not None and not same_oin(oin, expected_oin):
            expected = split_otap_suffix(expected_oin)[0]
            findings.append(
                error(
                    "pkio.oin.mismatch",
                    f"the certificate's OIN {oin} differs from the configured OIN {expected}",
                    "ask your TSP for a certificate with your OIN, or fix the OIN in dso.toml "
                    "([leverancier] oin) if the configuration is wrong",
                    where=where,
                    oin=oin,
                    expected=expected,
                )
            )
        if parsed.is_test and env in ("pre", "prod"):
            findings.append(
                warning(
                    "pkio.oin.test_oin",
                    f"the certificate carries test OIN {oin} (prefix 00000099) on "
                    f"{env.upper()}; DSO-LV mandates are keyed on your real OIN",
                    "use your PKIoverheid certificate with your organisation's OIN for "
                    f"--dso-env={env}",
                    where=where,
                    oin=oin,
                )
            )
    findings.append(_organization_identifier(certificate, where))
    return findings
