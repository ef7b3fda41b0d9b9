"""The pkio suite end to end through pytest: readable findings, no tracebacks, no secrets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.testpki import Issued, LeafSpec, TestHierarchy, build_hierarchy, test_oin

SUITE = Path(__file__).resolve().parents[2] / "suites" / "test_pkio.py"
OIN = test_oin(777)
SECRET = "suite-secret-passphrase-7f3a"


@pytest.fixture(scope="module")
def hierarchy() -> TestHierarchy:
    """A test hierarchy of this module (its root goes into ca_bundle)."""
    return build_hierarchy("suite", key_type="ec256")


def leaf(hierarchy: TestHierarchy, **changes: object) -> Issued:
    values: dict[str, object] = {
        "common_name": "adapter.test.localhost",
        "oin": OIN,
        "key_type": "ec256",
    }
    values.update(changes)
    return hierarchy.issue(LeafSpec(**values))  # type: ignore[arg-type]


def project(pytester: pytest.Pytester, hierarchy: TestHierarchy, issued: Issued) -> str:
    """Write the suite, PEM files and a dso.toml; return the unencrypted key's body lines."""
    pytester.makepyfile(test_pkio=SUITE.read_text())
    key = issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    files = {
        "cert.pem": certificates_pem([issued.certificate]),
        "key.pem": key,
        "chain.pem": certificates_pem(issued.issuers[:-1]),
        "ca.pem": certificates_pem(hierarchy.anchors),
    }
    for name, data in files.items():
        pytester.path.joinpath(name).write_bytes(data)
    pytester.path.joinpath("dso.toml").write_text(
        f'[leverancier]\noin = "{OIN}"\nname = "TEST leverancier"\n\n'
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nchain = "chain.pem"\n'
        'ca_bundle = "ca.pem"\n'
    )
    return key.decode()


def assert_no_key(output: str, key_pem: str) -> None:
    for line in key_pem.splitlines()[1:-1]:
        assert line not in output


def test_one_fault_gives_one_readable_failure(
    pytester: pytest.Pytester, hierarchy: TestHierarchy
) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    expired = leaf(hierarchy, not_before=start, not_after=start + dt.timedelta(days=365))
    key_pem = project(pytester, hierarchy, expired)
    result = pytester.runpytest("-k", "pkio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_certificate_is_valid_now*",
            "*validity: 1 problem(s)*",
            "*pkio.validity.expired: the certificate expired on*",
            "*how to fix: request a new certificate*",
        ]
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "def test_certificate_is_valid_now" not in output
    assert_no_key(output, key_pem)


def test_test_root_passes_locally_and_fails_on_pre(
    pytester: pytest.Pytester, hierarchy: TestHierarchy
) -> None:
    key_pem = project(pytester, hierarchy, leaf(hierarchy))
    local = pytester.runpytest("-k", "pkio", "-p", "no:cacheprovider")
    local.assert_outcomes(passed=5)
    pre = pytester.runpytest("-k", "pkio", "-p", "no:cacheprovider", "--dso-env=pre")
    pre.assert_outcomes(passed=4, failed=1)
    pre.stdout.fnmatch_lines(
        [
            "*test_chain_is_complete_up_to_an_accepted_root*",
            "*pkio.chain.not_pkio_root: the chain ends at 'TEST suite Private Root CA - G1', "
            "which is not a PKIoverheid private root*DSO-LV will refuse it*",
        ]
    )
    output = pre.stdout.str() + pre.stderr.str()
    assert "Traceback" not in output
    assert "pkio.oin.test_oin" in output  # the test OIN is a warning on PRE, not a failure
    assert_no_key(output, key_pem)


def test_pkcs12_passphrase_never_shows(
    pytester: pytest.Pytester, hierarchy: TestHierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = leaf(hierarchy)
    key_pem = project(pytester, hierarchy, issued)
    pytester.path.joinpath("id.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"id",
            issued.key,
            issued.certificate,
            list(issued.issuers[:-1]),
            serialization.BestAvailableEncryption(SECRET.encode()),
        )
    )
    pytester.path.joinpath("dso.toml").write_text(
        f'[leverancier]\noin = "{OIN}"\nname = "TEST leverancier"\n\n'
        '[certificate]\npkcs12 = "id.p12"\npassphrase_env = "DSO_SUITE_P12_PASS"\n'
        'ca_bundle = "ca.pem"\n'
    )
    monkeypatch.setenv("DSO_SUITE_P12_PASS", SECRET)
    good = pytester.runpytest("-k", "pkio", "-p", "no:cacheprovider", "-s", "-rA")
    good.assert_outcomes(passed=5)
    monkeypatch.setenv("DSO_SUITE_P12_PASS", "wrong-" + SECRET[::-1])
    bad = pytester.runpytest("-k", "pkio", "-p", "no:cacheprovider", "-s", "-rA")
    bad.assert_outcomes(failed=1, skipped=4)
    bad.stdout.fnmatch_lines(
        [
            "*pkio.load.passphrase_wrong: the passphrase from environment variable "
            "DSO_SUITE_P12_PASS does not open the PKCS#12 file*",
        ]
    )
    for result in (good, bad):
        output = result.stdout.str() + result.stderr.str()
        assert SECRET not in output
        assert SECRET[::-1] not in output
        assert "Traceback" not in output
        assert_no_key(output, key_pem)
