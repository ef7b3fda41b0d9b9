"""``dso-cpa lint FILE``: the CPA checks on one file, without pytest, with exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso.cli.cpa import main
from pytest_dso.cli.sim import main as sim_main
from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.testpki import LeafSpec, build_hierarchy, test_oin


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CPA and its test certificates as ``dso-sim cpa`` writes them (endpoints not on 443)."""
    folder = tmp_path_factory.mktemp("cpa")
    assert sim_main(["cpa", "--output", str(folder), "--dka-endpoint",
                     "https://127.0.0.1:8443/ebms", "--ebms-port", "9444"]) == 0
    return folder


def test_a_sound_local_cpa_passes(written: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", str(written / "cpa.xml"), "--env", "local", "--cert",
                 str(written / "certs" / "digikoppelaar.pem")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rules of LOCAL: 0 error(s)" in out


def test_pre_rules_fail_endpoints_off_443(written: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", str(written / "cpa.xml"), "--env", "pre"])
    out = capsys.readouterr().out
    assert code == 1
    assert "[error] cpa.endpoint.port" in out
    assert "how to fix: publish the adapter on port 443" in out


def test_a_certificate_that_is_not_in_the_cpa_is_an_error(
    written: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = build_hierarchy("other", key_type="ec256").issue(
        LeafSpec("adapter.test.localhost", test_oin(2), key_type="ec256"))
    pem = tmp_path / "other.pem"
    pem.write_bytes(certificates_pem([other.certificate]))
    code = main(["lint", str(written / "cpa.xml"), "--env", "local", "--cert", str(pem)])
    out = capsys.readouterr().out
    assert code == 1
    assert "cpa.certificate.identity" in out


@pytest.mark.parametrize(("content", "said"), [
    (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DTDs and entities are refused"),
    (b"<x/>", "not a CPPA 2.0"),
    (None, "cannot read the CPA file"),
])
def test_what_is_not_a_cpa_is_a_usage_error_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, said: str
) -> None:
    path = tmp_path / "cpa.xml"
    if content is not None:
        path.write_bytes(content)
    assert main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dso-cpa: ")
    assert said in err
    assert "Traceback" not in err


def test_an_unreadable_certificate_is_a_usage_error(
    written: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lint", str(written / "cpa.xml"), "--cert", str(tmp_path / "none.pem")]) == 2
    assert "cannot load --cert" in capsys.readouterr().err
