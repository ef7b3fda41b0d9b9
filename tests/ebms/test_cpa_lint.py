"""Every CPA lint rule fires on a CPA with that fault, and nothing fires on a clean CPA."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import Cpa, build_cpa, parse_cpa
from pytest_dso.ebms.cpa_build import RSA_SHA1, SHA1, TRIPLE_DES, CpaSpec
from pytest_dso.ebms.cpa_lint import lint_cpa
from pytest_dso.findings import Finding, Severity, errors, render, warnings_of, with_check
from pytest_dso.pkio.profile import host_in_certificate
from pytest_dso.pkio.testpki import LeafSpec, TestPki


def _lint(spec: CpaSpec, now: dt.datetime, env: str = "local", **kw: Any) -> list[Finding]:
    return lint_cpa(parse_cpa(build_cpa(spec)), now=now, env=env, **kw)


def _with_party(spec: CpaSpec, index: int, **changes: Any) -> CpaSpec:
    parties = list(spec.parties)
    parties[index] = replace(parties[index], **changes)
    return replace(spec, parties=(parties[0], parties[1]))


def _only(findings: list[Finding], check: str, severity: Severity = Severity.ERROR) -> Finding:
    bad = [f for f in findings if f.severity >= Severity.WARNING]
    assert [f.check for f in bad] == [check], render(findings)
    assert bad[0].severity == severity
    return bad[0]


def _cert(pki: TestPki, oin: str | None, **changes: Any) -> x509.Certificate:
    spec = LeafSpec(common_name="x.test.localhost", oin=oin, key_type="ec256", **changes)
    return pki.hierarchy.issue(spec).certificate


@pytest.mark.parametrize("env", ["local", "pre", "prod"])
def test_clean_cpa_has_no_errors_or_warnings(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, ebms_pki: TestPki, env: str
) -> None:
    findings = _lint(
        ebms_clean_spec,
        ebms_now,
        env,
        configured_identity_cert=ebms_pki.leaves["digikoppelaar"].certificate,
        presented_certs={"DSO-LV": ebms_pki.leaves["dso-lv"].certificate},
    )
    assert not errors(findings), render(findings)
    assert not warnings_of(findings), render(findings)
    assert with_check(findings, "cpa.certificate.identity")


# --- validity --------------------------------------------------------------------------------


def test_status_must_be_agreed(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    found = _only(_lint(replace(ebms_clean_spec, status="proposed"), ebms_now),
                  "cpa.validity.status")
    assert "'proposed'" in found.message


def test_cpa_not_yet_valid(ebms_clean_spec: CpaSpec) -> None:
    before = ebms_clean_spec.start - dt.timedelta(minutes=1)
    findings = _lint(ebms_clean_spec, before)
    assert with_check(errors(findings), "cpa.validity.not_started"), render(findings)


def test_cpa_expired(ebms_clean_spec: CpaSpec) -> None:
    after = ebms_clean_spec.end + dt.timedelta(days=1)
    findings = _lint(ebms_clean_spec, after)
    expired = with_check(errors(findings), "cpa.validity.expired")
    assert expired, render(findings)
    assert "CPA-register" in expired[0].hint


def test_cpa_expiring_soon_warns_with_register_hint(ebms_clean_spec: CpaSpec) -> None:
    soon = ebms_clean_spec.end - dt.timedelta(days=10)
    findings = _lint(replace(ebms_clean_spec, end=ebms_clean_spec.end), soon,
                     expiry_warning_days=5)
    assert not with_check(findings, "cpa.validity.expiring")
    findings = _lint(ebms_clean_spec, soon, expiry_warning_days=30)
    expiring = with_check(findings, "cpa.validity.expiring")
    assert expiring[0].severity == Severity.WARNING
    assert "first certificate expiry" in expiring[0].hint


def test_start_after_end(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(ebms_clean_spec, start=ebms_clean_spec.end + dt.timedelta(days=1))
    assert with_check(_lint(spec, ebms_now), "cpa.validity.order")


# --- certificates ----------------------------------------------------------------------------


def test_expired_certificate_in_cpa(ebms_clean_spec: CpaSpec, ebms_pki: TestPki) -> None:
    now = ebms_clean_spec.start + dt.timedelta(days=1)
    old = _cert(
        ebms_pki, "00000099000000002000",
        not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1),
        dns_names=("digikoppelaar.test.localhost",),
    )
    spec = _with_party(ebms_clean_spec, 1, certificate=old)
    findings = _lint(spec, now)
    assert with_check(errors(findings), "cpa.certificate.expired"), render(findings)
    assert with_check(findings, "cpa.certificate.outlived")


def test_cpa_outliving_its_certificates_warns(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = replace(ebms_clean_spec, end=ebms_clean_spec.end + dt.timedelta(days=100))
    findings = _lint(spec, ebms_now)
    outlived = with_check(findings, "cpa.certificate.outlived")
    assert len(outlived) == 2, render(findings)
    assert all(f.severity == Severity.WARNING for f in outlived)
    assert not errors(findings)


def test_configured_certificate_must_be_the_one_in_the_cpa(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, ebms_pki: TestPki
) -> None:
    renewed = _cert(ebms_pki, "00000099000000002000")
    found = _only(_lint(ebms_clean_spec, ebms_now, configured_identity_cert=renewed),
                  "cpa.certificate.identity_mismatch")
    assert "renewal" in found.hint
    stranger = _cert(ebms_pki, "00000099000000777000")
    _only(_lint(ebms_clean_spec, ebms_now, configured_identity_cert=stranger),
          "cpa.certificate.identity_party")


def test_presented_certificate_must_match_the_cpa(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, ebms_pki: TestPki
) -> None:
    other = _cert(ebms_pki, "00000099000000001000")
    _only(_lint(ebms_clean_spec, ebms_now, presented_certs={"00000099000000001000": other}),
          "cpa.certificate.presented_mismatch")


# --- party ids -------------------------------------------------------------------------------


def test_another_party_id_type_warns_during_the_transition(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 0, party_id_type="urn:oasis:names:tc:ebcore:partyid")
    found = _only(_lint(spec, ebms_now), "cpa.party_id.type", Severity.WARNING)
    assert c.PARTY_ID_TYPE_OIN in found.message
    assert found.evidence["rule"] == "Best Practices ebMS2 EB014"
    assert "EB014" in found.message


def test_party_id_without_type_is_an_error(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 0, party_id_type=None)
    found = _only(_lint(spec, ebms_now), "cpa.party_id.type")
    assert "no type" in found.message
    assert found.evidence["rule"]


def test_party_id_oin_must_be_the_certificate_oin(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 1, party_id="00000099000000003000")
    found = _only(_lint(spec, ebms_now), "cpa.party_id.oin_mismatch")
    assert found.evidence["certificate_oin"] == "00000099000000002000"


def test_otap_suffix_is_stripped_and_reported(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 1, party_id="00000099000000002000_OTA")
    findings = _lint(spec, ebms_now, env="pre")
    assert not errors(findings), render(findings)
    note = with_check(findings, "cpa.party_id.otap_suffix")
    assert note[0].severity == Severity.INFO
    assert "_OTA" in note[0].message
    assert "stripped" in note[0].message
    _only(_lint(spec, ebms_now, env="prod"), "cpa.party_id.otap_suffix")


# --- endpoints -------------------------------------------------------------------------------


def test_endpoint_must_be_https(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = _with_party(ebms_clean_spec, 0, endpoint="http://dso-lv.test.localhost/ebms")
    _only(_lint(spec, ebms_now), "cpa.endpoint.scheme")


def test_endpoint_port_443_on_pre_and_prod(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 0, endpoint="https://dso-lv.test.localhost:8443/ebms")
    assert not errors(_lint(spec, ebms_now, env="local"))
    found = _only(_lint(spec, ebms_now, env="pre"), "cpa.endpoint.port")
    assert "8443" in found.message


def test_endpoint_host_must_be_in_server_certificate(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = _with_party(ebms_clean_spec, 1, endpoint="https://adapter.example.nl/ebms")
    found = _only(_lint(spec, ebms_now), "cpa.endpoint.san")
    assert "adapter.example.nl" in found.message


def test_host_matching(ebms_pki: TestPki) -> None:
    cert = _cert(ebms_pki, None, dns_names=("*.example.nl", "a.test"), ip_addresses=("10.0.0.1",))
    assert host_in_certificate("x.example.nl", cert)
    assert not host_in_certificate("x.y.example.nl", cert)
    assert host_in_certificate("A.TEST", cert)
    assert host_in_certificate("10.0.0.1", cert)
    assert not host_in_certificate("10.0.0.2", cert)


# --- crypto ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"hash_function": SHA1}, {"signature_algorithm": RSA_SHA1}],
    ids=["hash", "signature"],
)
def test_no_sha1(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, changes: dict[str, Any]) -> None:
    spec = replace(ebms_clean_spec, signing=True, **changes)
    findings = _lint(spec, ebms_now)
    assert {f.check for f in errors(findings)} == {"cpa.crypto.sha1"}, render(findings)


def test_signed_cpa_with_sha256_is_clean(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    assert not errors(_lint(replace(ebms_clean_spec, signing=True), ebms_now))


def test_no_3des(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(ebms_clean_spec, encryption_algorithm=TRIPLE_DES)
    findings = _lint(spec, ebms_now)
    assert {f.check for f in errors(findings)} == {"cpa.crypto.3des"}, render(findings)
    assert {f.evidence["rule"] for f in errors(findings)} == {"ENC003"}


@pytest.mark.parametrize(
    ("algorithm", "check", "rule"),
    [
        ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "cpa.crypto.aes_cbc", "ENC003"),
        ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "cpa.crypto.aes_cbc", "ENC003"),
        ("http://www.w3.org/2001/04/xmlenc#rsa-1_5", "cpa.crypto.rsa_1_5", "ENC004"),
        ("urn:example:camellia256-cbc", "cpa.crypto.not_aes", "ENC001"),
    ],
)
def test_encryption_rules_cite_their_rule_id(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, algorithm: str, check: str, rule: str
) -> None:
    findings = _lint(replace(ebms_clean_spec, encryption_algorithm=algorithm), ebms_now)
    bad = errors(findings)
    assert {f.check for f in bad} == {check}, render(findings)
    assert {f.evidence["rule"] for f in bad} == {rule}
    assert all(f"({rule})" in f.message for f in bad)


@pytest.mark.parametrize(
    "algorithm",
    ["http://www.w3.org/2009/xmlenc11#aes128-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm",
     "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"],
)
def test_gcm_and_oaep_are_clean(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime, algorithm: str
) -> None:
    findings = _lint(replace(ebms_clean_spec, encryption_algorithm=algorithm), ebms_now)
    assert not with_check(errors(findings), "cpa.crypto"), render(findings)


def test_sha1_findings_name_the_digest_and_signature_rules(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = replace(ebms_clean_spec, signing=True, hash_function=SHA1, signature_algorithm=RSA_SHA1)
    rules = {f.evidence["rule"] for f in with_check(_lint(spec, ebms_now), "cpa.crypto.sha1")}
    assert rules == {"SIGN003", "SIGN004"}


# --- naming ----------------------------------------------------------------------------------


def test_no_whitespace_in_service(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(ebms_clean_spec, service="DSO SIM:Verzoek:1:0")
    found = with_check(errors(_lint(spec, ebms_now)), "cpa.naming.whitespace")
    assert "Service" in found[0].message


def test_no_whitespace_in_action(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = _with_party(ebms_clean_spec, 0, sends=("Verzoek notificatie",))
    found = with_check(errors(_lint(spec, ebms_now)), "cpa.naming.whitespace")
    assert "Action 'Verzoek notificatie'" in found[0].message


def test_dots_in_cpa_id_warn(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(ebms_clean_spec, cpa_id="DSO.SIM_1_2_v1.0")
    found = _only(_lint(spec, ebms_now), "cpa.naming.cpaid", Severity.WARNING)
    assert "'.'" in found.message


# --- MSH channels ----------------------------------------------------------------------------


def test_default_msh_channel_required(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = _with_party(ebms_clean_spec, 0, default_msh_channel=False)
    _only(_lint(spec, ebms_now), "cpa.msh.default_channel")


def test_default_msh_channel_must_resolve(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    xml = build_cpa(ebms_clean_spec).replace(
        b'cppa:defaultMshChannelId="DSO_LV_defaultChannel"',
        b'cppa:defaultMshChannelId="nowhere"',
    )
    found = _only(lint_cpa(parse_cpa(xml), now=ebms_now, env="local"), "cpa.msh.default_channel")
    assert "'nowhere'" in found.message


def test_msh_signal_settings_must_agree(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = _with_party(ebms_clean_spec, 1, ack_signature_requested="always")
    found = _only(_lint(spec, ebms_now), "cpa.msh.inconsistent")
    assert "ackSignatureRequested=always" in found.message


def test_next_msh_acks_are_refused(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(
        ebms_clean_spec,
        parties=tuple(replace(p, actor=c.ACTOR_NEXT_MSH) for p in ebms_clean_spec.parties),  # type: ignore[arg-type]
    )
    findings = _lint(spec, ebms_now)
    assert {f.check for f in errors(findings)} == {"cpa.msh.next_msh"}, render(findings)


def test_mixed_rm_and_be_settings_warn(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    spec = replace(
        ebms_clean_spec,
        parties=tuple(  # type: ignore[arg-type]
            replace(p, duplicate_elimination="never") for p in ebms_clean_spec.parties
        ),
    )
    findings = _lint(spec, ebms_now)
    assert {f.check for f in warnings_of(findings)} == {"cpa.msh.profile"}, render(findings)


def test_best_effort_cpa_is_clean(ebms_clean_spec: CpaSpec, ebms_now: dt.datetime) -> None:
    findings = _lint(replace(ebms_clean_spec, reliable=False), ebms_now)
    assert not errors(findings)
    assert not warnings_of(findings)


# --- reliable messaging ----------------------------------------------------------------------


def test_persist_duration_must_cover_retries(
    ebms_clean_spec: CpaSpec, ebms_now: dt.datetime
) -> None:
    spec = replace(ebms_clean_spec, persist_duration=dt.timedelta(hours=2))
    found = with_check(warnings_of(_lint(spec, ebms_now)), "cpa.rm.persist_duration")
    assert len(found) == 2
    assert "1 day, 0:00:00" in found[0].message


def test_hand_written_cpa_with_differing_msh_channels(ebms_data: Any) -> None:
    cpa: Cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    findings = lint_cpa(cpa, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), env="pre")
    # TLS certs are self-signed with the right OINs; the MSH channels differ on purpose
    assert with_check(errors(findings), "cpa.msh.inconsistent"), render(findings)
    assert not with_check(findings, "cpa.party_id.oin_mismatch")
