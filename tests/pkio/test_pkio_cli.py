"""``dso-certs``: generate a test PKI, load every output back, inspect with exit codes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pytest_dso.cli.certs import TEST_PASSPHRASE, main
from pytest_dso.dsofile import parse_dso_toml
from pytest_dso.findings import errors
from pytest_dso.pkio.checks import CertificatePolicy, check_identity
from pytest_dso.pkio.identity import certificates_pem, fingerprint_sha256
from pytest_dso.pkio.load import (
    load_ca_bundle,
    load_certificates,
    load_configured_identity,
    load_pem_identity,
    load_pkcs12_identity,
    passphrase_from,
)
from pytest_dso.pkio.testpki import STANDARD_PARTIES, LeafSpec, TestHierarchy, build_hierarchy

REPO = Path(__file__).resolve().parents[2]
SLUGS = [p.slug for p in STANDARD_PARTIES]
SECRET = "a passphrase of the test"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test PKI written by ``dso-certs generate`` (EC keys for speed)."""
    out = tmp_path_factory.mktemp("pki")
    assert main(["generate", "--out", str(out), "--key-type", "ec256", "--days", "90"]) == 0
    return out


def test_generate_writes_every_file(generated: Path) -> None:
    expected = {"README.md", "PASSPHRASE.txt", "ca-bundle.pem"}
    expected |= {f"{ca}.crt.pem" for ca in ("root-ca", "domain-ca", "tsp-ca")}
    for slug in SLUGS:
        expected |= {f"{slug}.crt.pem", f"{slug}.key.pem", f"{slug}.chain.pem", f"{slug}.p12"}
    assert {p.name for p in generated.iterdir()} == expected
    assert (generated / "PASSPHRASE.txt").read_text() == TEST_PASSPHRASE + "\n"
    assert (generated / "digikoppelaar.key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("slug", SLUGS)
def test_every_party_loads_back_and_passes_the_local_checks(generated: Path, slug: str) -> None:
    anchors, found = load_ca_bundle(generated / "ca-bundle.pem")
    assert found == []
    assert len(anchors) == 1
    pem, pem_findings = load_pem_identity(
        generated / f"{slug}.crt.pem",
        generated / f"{slug}.key.pem",
        generated / f"{slug}.chain.pem",
    )
    passphrase, _ = passphrase_from(file=generated / "PASSPHRASE.txt")
    p12, p12_findings = load_pkcs12_identity(generated / f"{slug}.p12", passphrase)
    assert pem is not None, pem_findings
    assert p12 is not None, p12_findings
    assert pem.certificate == p12.certificate
    assert pem.chain == p12.chain
    assert len(pem.chain) == 2
    party = next(p for p in STANDARD_PARTIES if p.slug == slug)
    assert pem.oin == party.oin
    policy = CertificatePolicy(expected_oin=party.oin, anchors=anchors, host="localhost")
    assert errors(check_identity(pem, policy)) == []


def test_readme_lists_parties_and_how_to_regenerate(generated: Path) -> None:
    readme = (generated / "README.md").read_text()
    assert "TEST ONLY" in readme
    assert "dso-certs generate --out" in readme
    for party in STANDARD_PARTIES:
        cert = load_certificates(generated / f"{party.slug}.crt.pem")[0][0]
        assert party.oin in readme
        assert fingerprint_sha256(cert) in readme
        assert f"{cert.not_valid_after_utc:%Y-%m-%d}" in readme


def test_passphrase_from_env_and_encrypted_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "only-in-the-environment"
    monkeypatch.setenv("DSO_TEST_PKI_PASS", secret)
    argv = [
        "generate",
        "--out",
        str(tmp_path),
        "--key-type",
        "ec256",
        "--encrypt-keys",
        "--passphrase-env",
        "DSO_TEST_PKI_PASS",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert secret not in out
    assert not (tmp_path / "PASSPHRASE.txt").exists()
    assert secret not in (tmp_path / "README.md").read_text()
    assert "--passphrase-env DSO_TEST_PKI_PASS" in (tmp_path / "README.md").read_text()
    cert, key = tmp_path / "gemeente.crt.pem", tmp_path / "gemeente.key.pem"
    assert load_pem_identity(cert, key)[0] is None  # encrypted: needs the passphrase
    passphrase, _ = passphrase_from(env="DSO_TEST_PKI_PASS")
    assert load_pem_identity(cert, key, passphrase=passphrase)[0] is not None
    assert load_pkcs12_identity(tmp_path / "gemeente.p12", passphrase)[0] is not None


def test_unset_passphrase_env_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSO_TEST_UNSET", raising=False)
    argv = ["generate", "--out", str(tmp_path), "--passphrase-env", "DSO_TEST_UNSET"]
    assert main(argv) == 2
    assert "DSO_TEST_UNSET" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_no_inline_passphrase_option() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", "x", "--passphrase", "secret"])
    assert exc.value.code == 2


def test_inspect_sound_certificate(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "inspect",
            str(generated / "gemeente.crt.pem"),
            "--chain",
            str(generated / "gemeente.chain.pem"),
            "--host",
            "localhost",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "using ca bundle:" in out
    assert "oin: 00000099000000101000 = test OIN" in out
    assert "result: OK" in out


def test_inspect_pkcs12_shows_no_key_material(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inspect",
            str(generated / "gemeente.p12"),
            "--passphrase-file",
            str(generated / "PASSPHRASE.txt"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PRIVATE KEY" not in out
    assert TEST_PASSPHRASE not in out
    key_lines = (generated / "gemeente.key.pem").read_text().splitlines()[1:-1]
    assert not any(line in out for line in key_lines)


def test_inspect_on_pre_fails_on_the_test_root(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inspect",
            str(generated / "gemeente.crt.pem"),
            "--chain",
            str(generated / "gemeente.chain.pem"),
            "--env",
            "pre",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "is not a PKIoverheid private root" in out
    assert "result: FAIL" in out


def test_inspect_wrong_passphrase(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    code = main(["inspect", str(generated / "gemeente.p12"), "--passphrase-file", str(wrong)])
    out = capsys.readouterr().out
    assert code == 1
    assert "pkio.load.passphrase_wrong" in out
    assert "not the passphrase" not in out


def test_inspect_expired_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hierarchy: TestHierarchy = build_hierarchy("cli", key_type="ec256")
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    leaf = hierarchy.issue(
        LeafSpec("old", None, key_type="ec256", not_before=start, not_after=start + dt.timedelta(9))
    )
    cert = tmp_path / "old.pem"
    cert.write_bytes(certificates_pem([leaf.certificate, *leaf.issuers[:-1]]))
    (tmp_path / "ca-bundle.pem").write_bytes(certificates_pem(hierarchy.anchors))
    assert main(["inspect", str(cert)]) == 1
    out = capsys.readouterr().out
    assert "pkio.validity.expired" in out
    assert "pkio.oin.missing" in out


def test_inspect_corrupt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
    assert main(["inspect", str(junk)]) == 1
    out = capsys.readouterr().out
    assert "pkio.load.corrupt" in out
    assert "Traceback" not in out


def test_inspect_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nope.pem")]) == 1
    assert "pkio.load.missing" in capsys.readouterr().out


def test_console_script(tmp_path: Path) -> None:
    # The interpreter's own scripts folder first: `.venv/bin/python -m pytest` (tasks.py test)
    # does not put .venv/bin on PATH.
    scripts = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("dso-certs", path=scripts)
    assert exe is not None, "dso-certs is not installed as a console script (pip install -e .)"
    result = subprocess.run(
        [exe, "inspect", str(tmp_path / "nope.pem")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "pkio.load.missing" in result.stdout


def test_certs_example_is_committed_and_loads() -> None:
    folder = REPO / "certs-example"
    readme = (folder / "README.md").read_text()
    assert "TEST ONLY" in readme
    assert "dso-certs generate" in readme
    identity, findings = load_pem_identity(
        folder / "digikoppelaar.crt.pem",
        folder / "digikoppelaar.key.pem",
        folder / "digikoppelaar.chain.pem",
    )
    assert identity is not None, findings
    passphrase, _ = passphrase_from(file=folder / "PASSPHRASE.txt")
    assert load_pkcs12_identity(folder / "digikoppelaar.p12", passphrase)[0] is not None
    assert identity.oin is not None
    assert identity.oin.startswith("00000099")


def _written(tmp_path: Path, name: str, certificates: list[x509.Certificate],
             hierarchy: TestHierarchy) -> Path:
    path = tmp_path / name
    path.write_bytes(certificates_pem(certificates))
    (tmp_path / "ca-bundle.pem").write_bytes(certificates_pem(hierarchy.anchors))
    return path


def test_inspect_fails_a_leaf_without_eku(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hierarchy = build_hierarchy("no-eku", key_type="ec256")
    leaf = hierarchy.issue(LeafSpec("adapter.example.nl", "00000099000000777000",
                                    key_type="ec256", extended_key_usage=()))
    cert = _written(tmp_path, "leaf.pem", [leaf.certificate, *leaf.issuers[:-1]], hierarchy)
    assert main(["inspect", str(cert)]) == 1
    out = capsys.readouterr().out
    assert "[error] pkio.profile.extended_key_usage: the certificate has no " in out
    assert "result: FAIL (1 error(s)" in out


@pytest.mark.parametrize(
    "order", ["tsp-domain-leaf", "domain-leaf-tsp"],
)
def test_inspect_reads_a_bundle_in_any_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    hierarchy = build_hierarchy("order", key_type="ec256")
    leaf = hierarchy.issue(LeafSpec("adapter.example.nl", "00000099000000777000",
                                    dns_names=("adapter.example.nl",), key_type="ec256"))
    tsp, domain = leaf.issuers[0], leaf.issuers[1]
    parts = {"tsp": tsp, "domain": domain, "leaf": leaf.certificate}
    bundle = _written(tmp_path, "bundle.pem", [parts[p] for p in order.split("-")], hierarchy)
    assert main(["inspect", str(bundle), "--host", "adapter.example.nl"]) == 0
    out = capsys.readouterr().out
    assert "CN=adapter.example.nl" in out.split("findings")[0]
    assert "[warning] pkio.load.bundle_order:" in out
    assert "put the leaf first" in out
    assert "result: OK (0 error(s)" in out
    # Leaf first in issuing order: no warning.
    good = _written(tmp_path, "good.pem", [leaf.certificate, tsp, domain], hierarchy)
    assert main(["inspect", str(good), "--host", "adapter.example.nl"]) == 0
    assert "bundle_order" not in capsys.readouterr().out


def test_a_key_picks_the_leaf_of_a_reversed_bundle(tmp_path: Path) -> None:
    hierarchy = build_hierarchy("order-key", key_type="ec256")
    leaf = hierarchy.issue(LeafSpec("adapter.example.nl", None, key_type="ec256"))
    cert = tmp_path / "bundle.pem"
    cert.write_bytes(certificates_pem([*reversed(leaf.issuers[:-1]), leaf.certificate]))
    key = tmp_path / "key.pem"
    key.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    identity, findings = load_pem_identity(cert, key)
    assert identity is not None
    assert identity.certificate == leaf.certificate
    assert identity.chain == tuple(leaf.issuers[:-1])
    assert [f.check for f in findings] == ["pkio.load.bundle_order"]


def _toml_block(readme: str) -> str:
    return readme.split("```toml\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("protect", ["builtin", "env-and-encrypted-keys"])
def test_the_readme_snippet_loads_the_folder_it_was_written_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, protect: str
) -> None:
    monkeypatch.chdir(tmp_path)
    extra = [] if protect == "builtin" else ["--passphrase-env", "MY_PKI_PASS", "--encrypt-keys"]
    monkeypatch.setenv("MY_PKI_PASS", SECRET)
    assert main(["generate", "--out", "keys/my-pki", "--key-type", "ec256", *extra]) == 0
    block = _toml_block((tmp_path / "keys" / "my-pki" / "README.md").read_text())
    assert "certs-example" not in block
    environ = {"MY_PKI_PASS": SECRET}
    pem = parse_dso_toml(block, tmp_path / "dso.toml").certificate
    assert pem is not None
    identity, findings = load_configured_identity(pem, environ=environ)
    assert identity is not None, findings
    assert errors(findings) == []
    # the PKCS#12 alternative it names in a comment loads too
    alternative = block.split("# or: ", 1)[1].strip()
    p12_file, unlock = alternative.split(" with ")
    p12 = parse_dso_toml(f"[certificate]\n{p12_file}\n{unlock}\n",
                         tmp_path / "dso.toml").certificate
    assert p12 is not None
    identity, findings = load_configured_identity(p12, environ=environ)
    assert identity is not None, findings
    assert errors(findings) == []
