"""Local mode with your own certificate and CA: the simulator trusts your ca_bundle, so the
Ping/Pong and TLS suites judge the simulator, not a refusal of an unknown CA; the report header
says which partner is pinged and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.testpki import LeafSpec, build_hierarchy

SUITES = Path(__file__).parents[2] / "suites"


def _own_certificate(folder: Path, *, with_bundle: bool) -> None:
    """A certificate from a CA of your own (not the simulator's test PKI), as files."""
    own = build_hierarchy("own", key_type="ec256")
    leaf = own.issue(LeafSpec("localhost", "00000099000000555000", key_type="ec256"))
    (folder / "cert.pem").write_bytes(certificates_pem([leaf.certificate]))
    (folder / "chain.pem").write_bytes(certificates_pem(leaf.issuers[:-1]))
    (folder / "key.pem").write_bytes(leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (folder / "own-root.pem").write_bytes(certificates_pem(own.anchors))
    bundle = 'ca_bundle = "own-root.pem"\n' if with_bundle else ""
    (folder / "dso.toml").write_text(
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nchain = "chain.pem"\n' + bundle,
        encoding="utf-8",
    )


@pytest.fixture
def suites(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("test_pingpong.py", "test_tls.py"):
        pytester.makepyfile(**{name[:-3]: (SUITES / name).read_text(encoding="utf-8")})
    return pytester


def test_local_mode_with_your_own_ca_pings_the_simulator_that_trusts_it(
    suites: pytest.Pytester,
) -> None:
    _own_certificate(suites.path, with_bundle=True)
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "-m", "health",
                                         "test_pingpong.py", "test_tls.py")
    result.stdout.fnmatch_lines([
        "dso ping partner: the embedded simulator (local mode), under a CPA it makes for your "
        "[[]certificate[]]; it trusts your ca_bundle as well as its test CA*",
    ])
    out = result.stdout.str()
    assert "unknown_ca" not in out
    assert "UNKNOWN_CA" not in out
    result.assert_outcomes(passed=8)


def test_without_a_ca_bundle_the_header_says_what_to_set(suites: pytest.Pytester) -> None:
    _own_certificate(suites.path, with_bundle=False)
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only",
                                         "test_tls.py")
    result.stdout.fnmatch_lines([
        "dso ping partner: *your [[]certificate[]]; set [[]certificate[]] ca_bundle to your "
        "CA's root*",
    ])
