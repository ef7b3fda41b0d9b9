"""``dso-certs``: generate a PKIoverheid-shaped test PKI, or inspect a certificate.

``dso-certs generate --out DIR`` writes the standard test PKI (root, domain CA, TSP CA and one
certificate per party) as PEM and PKCS#12 files with a README. ``dso-certs inspect FILE`` prints
a certificate summary and the findings of the certificate checks; the exit code is 1 when there
are errors.

Passphrases are never given on the command line: use ``--passphrase-env NAME`` (an environment
variable) or ``--passphrase-file PATH``. Without either, ``generate`` uses the fixed, public,
test-only passphrase :data:`TEST_PASSPHRASE` and writes it to ``PASSPHRASE.txt``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TextIO, get_args

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_dso.environments import profile
from pytest_dso.findings import Finding, errors, render, warnings_of
from pytest_dso.pkio.bundle import find_leaf, order_findings
from pytest_dso.pkio.checks import CertificatePolicy, certificate_summary, check_certificate
from pytest_dso.pkio.identity import certificates_pem, fingerprint_sha256
from pytest_dso.pkio.load import (
    Passphrase,
    load_ca_bundle,
    load_certificates,
    load_pem_identity,
    load_pkcs12_identity,
    order_chain,
    passphrase_from,
)
from pytest_dso.pkio.testpki import Issued, KeyType, TestPki, build_test_pki

#: The passphrase of generated PKCS#12 files when none is configured. Public and test-only:
#: it protects nothing, it only makes the files usable by tools that insist on a passphrase.
TEST_PASSPHRASE = "pytest-dso-test-only"  # noqa: S105 - public by design, test PKI only
PASSPHRASE_FILE = "PASSPHRASE.txt"  # noqa: S105 - a file name
CA_FILES = (("root-ca", "root"), ("domain-ca", "domain"), ("tsp-ca", "tsp"))
_EXIT_OK, _EXIT_FINDINGS, _EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dso-certs",
        description="Generate a PKIoverheid-shaped TEST PKI, or inspect a certificate.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate",
        help="Write the standard test PKI (CAs, parties, PKCS#12, CA bundle, README).",
        description="Write the standard test PKI. Every key written is for tests only.",
    )
    gen.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="Folder to write to (created if needed; files are overwritten).")
    gen.add_argument("--key-type", default="rsa3072", choices=get_args(KeyType),
                     help="Key type of every key. Default: rsa3072.")
    gen.add_argument("--days", type=int, default=365,
                     help="Validity of the party certificates in days. Default: 365.")
    _passphrase_options(gen, "the PKCS#12 files (and keys with --encrypt-keys). Default: the "
                        f"public test-only passphrase in {PASSPHRASE_FILE}")
    gen.add_argument("--encrypt-keys", action="store_true",
                     help="Also encrypt the PEM keys with the passphrase. Default: off.")

    ins = sub.add_parser(
        "inspect",
        help="Print a certificate summary and the findings of the certificate checks.",
        description="Check a certificate (PEM/DER, or PKCS#12) and print a summary and the "
        "findings. Exit code 1 when there are errors.",
    )
    ins.add_argument("file", type=Path, metavar="FILE",
                     help="Certificate (PEM or DER; may include intermediates) or PKCS#12 file.")
    ins.add_argument("--key", type=Path, help="PEM key to check against the certificate.")
    ins.add_argument("--chain", type=Path, help="PEM file with the intermediates.")
    ins.add_argument("--pkcs12", action="store_true",
                     help="FILE is PKCS#12 (automatic for .p12 and .pfx).")
    _passphrase_options(ins, "the key or PKCS#12 file")
    ins.add_argument("--ca-bundle", type=Path,
                     help="Trusted roots (PEM). Default: ca-bundle.pem next to FILE, if any.")
    ins.add_argument("--oin", help="The OIN the certificate must carry. Default: not checked.")
    ins.add_argument("--host", help="The adapter host the SAN must name. Default: not checked.")
    ins.add_argument("--env", default="local", choices=("local", "pre", "prod"),
                     help="Policy to apply (pre/prod demand a PKIoverheid private root). "
                     "Default: local.")
    ins.add_argument("--expiry-warning-days", type=int, default=30,
                     help="Warn when the certificate expires within this many days. Default: 30.")
    return parser


def _passphrase_options(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--passphrase-env", metavar="NAME",
                       help=f"Environment variable holding the passphrase of {what}.")
    group.add_argument("--passphrase-file", type=Path, metavar="PATH",
                       help=f"File holding the passphrase of {what}.")


def main(argv: list[str] | None = None) -> int:
    """Run ``dso-certs``; returns the exit code (0 fine, 1 findings with errors, 2 usage)."""
    args = _parser().parse_args(argv)
    if args.command == "generate":
        return _generate(args, sys.stdout, sys.stderr)
    return _inspect(args, sys.stdout, sys.stderr)


# --- generate -------------------------------------------------------------------------------


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    if private:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def _key_pem(key: CertificateIssuerPrivateKeyTypes, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _command_line(args: argparse.Namespace) -> str:
    parts = ["dso-certs generate", f"--out {args.out}", f"--key-type {args.key_type}",
             f"--days {args.days}"]
    if args.passphrase_env:
        parts.append(f"--passphrase-env {args.passphrase_env}")
    if args.passphrase_file:
        parts.append(f"--passphrase-file {args.passphrase_file}")
    if args.encrypt_keys:
        parts.append("--encrypt-keys")
    return " ".join(parts)


def _generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.days < 1:
        err.write("dso-certs: --days must be at least 1\n")
        return _EXIT_USAGE
    passphrase, findings = passphrase_from(args.passphrase_env, args.passphrase_file)
    if errors(findings):
        err.write(render(findings) + "\n")
        return _EXIT_USAGE
    if passphrase is None:
        passphrase = Passphrase(TEST_PASSPHRASE.encode(), "the built-in test-only passphrase")
    folder: Path = args.out
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err.write(f"dso-certs: cannot create {folder}: {exc.strerror or exc}\n")
        return _EXIT_USAGE
    pki = build_test_pki(key_type=args.key_type, days=args.days)
    key_passphrase = passphrase.value if args.encrypt_keys else None
    try:
        _write_pki(folder, pki, passphrase, key_passphrase)
        if passphrase.value == TEST_PASSPHRASE.encode():
            _write(folder / PASSPHRASE_FILE, TEST_PASSPHRASE.encode() + b"\n")
        else:
            (folder / PASSPHRASE_FILE).unlink(missing_ok=True)  # would not open these files
        readme = _readme(pki, args, passphrase)
        _write(folder / "README.md", readme.encode("utf-8"))
    except OSError as exc:
        err.write(f"dso-certs: cannot write to {folder}: {exc.strerror or exc}\n")
        return _EXIT_USAGE
    out.write(f"wrote the TEST PKI to {folder} (test-only keys; see README.md):\n")
    for party in pki.parties:
        leaf = pki.leaves[party.slug]
        out.write(f"  {party.slug:<16} OIN {party.oin}  sha256 "
                  f"{fingerprint_sha256(leaf.certificate)}\n")
    out.write(f"  ca-bundle.pem    {_root_name(pki)}\n")
    return _EXIT_OK


def _root_name(pki: TestPki) -> str:
    return pki.hierarchy.root.certificate.subject.rfc4514_string()


def _write_pki(
    folder: Path, pki: TestPki, passphrase: Passphrase, key_passphrase: bytes | None
) -> None:
    hierarchy = pki.hierarchy
    for filename, attr in CA_FILES:
        issued: Issued = getattr(hierarchy, attr)
        _write(folder / f"{filename}.crt.pem", certificates_pem([issued.certificate]))
    _write(folder / "ca-bundle.pem", certificates_pem(hierarchy.anchors))
    encryption = serialization.BestAvailableEncryption(passphrase.value)
    for party in pki.parties:
        leaf = pki.leaves[party.slug]
        intermediates = list(leaf.issuers[:-1])
        _write(folder / f"{party.slug}.crt.pem", certificates_pem([leaf.certificate]))
        _write(folder / f"{party.slug}.key.pem", _key_pem(leaf.key, key_passphrase), private=True)
        _write(folder / f"{party.slug}.chain.pem", certificates_pem(intermediates))
        key = leaf.key
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise TypeError(f"test keys are RSA or EC, not {type(key).__name__}")
        p12 = pkcs12.serialize_key_and_certificates(
            party.slug.encode(), key, leaf.certificate, intermediates, encryption
        )
        _write(folder / f"{party.slug}.p12", p12, private=True)


def _readme(pki: TestPki, args: argparse.Namespace, passphrase: Passphrase) -> str:
    root = pki.hierarchy.root.certificate
    builtin = passphrase.value == TEST_PASSPHRASE.encode()
    if builtin:
        secret = (f"The PKCS#12 files are encrypted with the public test-only passphrase in "
                  f"`{PASSPHRASE_FILE}` (`{TEST_PASSPHRASE}`).")
    else:
        secret = (f"The PKCS#12 files are encrypted with the passphrase from "
                  f"{passphrase.source}; it is not written here.")
    keys = ("encrypted with the same passphrase" if args.encrypt_keys
            else "unencrypted (PKCS#8 PEM)")
    lines = [
        "# Test PKI for pytest-dso",
        "",
        "> **TEST ONLY. These private keys are public. Never use them, or this CA, outside "
        "tests.**",
        "> Every name carries `TEST` and every OIN the test prefix `00000099`, so no",
        "> certificate here can pass for a real PKIoverheid certificate. DSO-LV PRE and PROD",
        "> refuse them (they are not under a PKIoverheid private root).",
        "",
        "The hierarchy has the four levels of PKIoverheid: root → domain CA → TSP CA → party.",
        "",
        "## Regenerate",
        "",
        "```sh",
        _command_line(args),
        "```",
        "",
        "Passphrases are never given on the command line: use `--passphrase-env NAME` or",
        "`--passphrase-file PATH`. Without either the public test-only passphrase is used.",
        "",
        "## Files",
        "",
        "| File | Content |",
        "|---|---|",
        "| `ca-bundle.pem` | The test root (trust anchor): `ca_bundle` in dso.toml |",
        "| `root-ca.crt.pem`, `domain-ca.crt.pem`, `tsp-ca.crt.pem` | The CA certificates |",
        "| `<party>.crt.pem` | The party's certificate |",
        f"| `<party>.key.pem` | Its private key, {keys} |",
        "| `<party>.chain.pem` | The intermediates (TSP CA, domain CA) the party must present |",
        "| `<party>.p12` | Key, certificate and intermediates as PKCS#12 |",
        "",
        secret,
        "",
        f"Root: `{root.subject.rfc4514_string()}`, SHA-256 `{fingerprint_sha256(root)}`, "
        f"valid until {root.not_valid_after_utc:%Y-%m-%d}.",
        "",
        "## Parties",
        "",
        "| Party | Role | Name | OIN | SHA-256 fingerprint | Valid from | Valid until |",
        "|---|---|---|---|---|---|---|",
    ]
    for party in pki.parties:
        cert = pki.leaves[party.slug].certificate
        lines.append(
            f"| `{party.slug}` | {party.role} | {party.name} | `{party.oin}` | "
            f"`{fingerprint_sha256(cert)}` | {cert.not_valid_before_utc:%Y-%m-%d} | "
            f"{cert.not_valid_after_utc:%Y-%m-%d} |"
        )
    out = args.out.as_posix()  # as given: the paths below are relative to where it ran
    if builtin:
        unlock = f'passphrase_file = "{out}/{PASSPHRASE_FILE}"'
    elif args.passphrase_env:
        unlock = f'passphrase_env = "{args.passphrase_env}"'
    else:
        unlock = f'passphrase_file = "{Path(args.passphrase_file).as_posix()}"'
    lines += [
        "",
        "## Use in dso.toml (local mode)",
        "",
        "```toml",
        "[certificate]",
        f'cert = "{out}/digikoppelaar.crt.pem"',
        f'key = "{out}/digikoppelaar.key.pem"',
        *([unlock] if args.encrypt_keys else []),
        f'chain = "{out}/digikoppelaar.chain.pem"',
        f'ca_bundle = "{out}/ca-bundle.pem"',
        f'# or: pkcs12 = "{out}/digikoppelaar.p12" with {unlock}',
        "```",
        "",
        f"Check a certificate: `dso-certs inspect {out}/digikoppelaar.crt.pem "
        f"--chain {out}/digikoppelaar.chain.pem`.",
        "",
    ]
    return "\n".join(lines)


# --- inspect --------------------------------------------------------------------------------


def _load_for_inspect(
    args: argparse.Namespace, passphrase: Passphrase | None
) -> tuple[x509.Certificate | None, tuple[x509.Certificate, ...], list[Finding]]:
    path: Path = args.file
    if args.pkcs12 or path.suffix.lower() in (".p12", ".pfx"):
        identity, findings = load_pkcs12_identity(path, passphrase, args.chain)
    elif args.key is not None:
        identity, findings = load_pem_identity(path, args.key, args.chain, passphrase)
    else:
        certificates, findings = load_certificates(path)
        chain: tuple[x509.Certificate, ...] = ()
        if args.chain is not None:
            chain, more = load_certificates(args.chain, "chain file")
            findings += more
        leaf = find_leaf(certificates)
        if leaf is None or errors(findings):
            return None, (), findings
        findings += order_findings(certificates, leaf, str(path))
        rest = [c for c in certificates if c is not leaf]
        return leaf, order_chain(leaf, [*rest, *chain]), findings
    if identity is None:
        return None, (), findings
    return identity.certificate, identity.chain, findings


def _anchors(
    args: argparse.Namespace, out: TextIO
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    bundle: Path | None = args.ca_bundle
    if bundle is None:
        sibling = args.file.parent / "ca-bundle.pem"
        if not sibling.is_file():
            return (), []
        bundle = sibling
        out.write(f"using ca bundle: {bundle}\n")
    return load_ca_bundle(bundle)


def _inspect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    passphrase, findings = passphrase_from(args.passphrase_env, args.passphrase_file)
    if errors(findings):
        err.write(render(findings) + "\n")
        return _EXIT_USAGE
    certificate, chain, findings = _load_for_inspect(args, passphrase)
    anchors, bundle_findings = _anchors(args, out)
    findings += bundle_findings
    now = dt.datetime.now(dt.UTC)
    out.write(f"certificate: {args.file}\n")
    if certificate is not None:
        for key, value in certificate_summary(certificate, chain, anchors, now).items():
            out.write(f"  {key}: {value}\n")
        policy = CertificatePolicy(
            expected_oin=args.oin,
            env=args.env,
            require_pkio_root=profile(args.env).require_pkio_root,
            anchors=anchors,
            expiry_warning_days=args.expiry_warning_days,
            host=args.host,
            now=now,
        )
        findings += check_certificate(certificate, chain, policy)
    out.write(f"findings ({args.env} policy):\n")
    out.write(_indent(render(findings)) + "\n")
    bad, warned = errors(findings), warnings_of(findings)
    verdict = "FAIL" if bad else "OK"
    out.write(f"result: {verdict} ({len(bad)} error(s), {len(warned)} warning(s))\n")
    return _EXIT_FINDINGS if bad else _EXIT_OK


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
