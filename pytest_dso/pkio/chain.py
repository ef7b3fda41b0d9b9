"""Certificate path building and the PKIoverheid hierarchy policy.

The path runs leaf → TSP CA → domain CA → root (PKIoverheid has four levels). Issuers are
matched by name and then proven by signature. The certificates come from the presented chain
and the configured ``ca_bundle``.

Root policy. On PRE and PROD (``require_pkio_root``) the path must end in a PKIoverheid
*private* root:

- the Private Root CA - G1, recognised by its SHA-256 fingerprint
  (:data:`G1_PRIVATE_ROOT_SHA256`), or any root whose fingerprint is in the configurable
  ``accepted_root_fingerprints``;
- the G4 Private G-TLS root, recognised by its SHA-256 fingerprint
  (:data:`G4_PRIVATE_ROOT_SHA256`). That fingerprint comes from a **secondary source** (the Nuts
  foundation's PKIoverheid truststore page, which points at https://cert.pkioverheid.nl/), not
  from the issuer: findings that rely on it say so. A root with the G4 name but another
  fingerprint is accepted by name with a warning, to be checked at cert.pkioverheid.nl.

The public G3, G2 and EV roots and TRIAL roots are recognised by name and refused for
Digikoppeling. In local mode a (test) root from ``ca_bundle`` is accepted.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.guides import guide
from pytest_dso.pkio.identity import fingerprint_sha256
from pytest_dso.pkio.names import is_self_issued, issuer_of, short_name, subject_of

#: SHA-256 (DER) of "Staat der Nederlanden Private Root CA - G1" (serial 10004001, valid to
#: 2028-11-13), as published by PKIoverheid.
G1_PRIVATE_ROOT_SHA256 = "0257ce27b52408e24ee2c0945640b723c5bc66ddbda4ada58c60357604f0e675"
G1_PRIVATE_ROOT_NAME = "Staat der Nederlanden Private Root CA - G1"
G1_PRIVATE_ROOT_URL = "https://cert.pkioverheid.nl/PrivateRootCA-G1.cer"
#: The G1 successor for Digikoppeling TLS.
G4_PRIVATE_ROOT_NAME = "Staat der Nederlanden - G4 Root Priv G-TLS - 2024"
#: SHA-256 (DER) of the G4 root as a secondary source gives it (the Nuts foundation's
#: PKIoverheid truststore page, GitHub nuts-foundation/nuts-webpresence, pointing at
#: https://cert.pkioverheid.nl/StaatderNederlandenG4RootPrivGTLS2024.cer); not checked
#: against the issuer here.
G4_PRIVATE_ROOT_SHA256 = "4411f67d3d7f4f49d34ff8862249de0d6692adc92df0855fb1dd67a169800484"
G4_FINGERPRINT_SOURCE = "fingerprint from a secondary source (Nuts truststore page), verify it"
#: Roots accepted by fingerprint unless configured otherwise.
DEFAULT_ACCEPTED_ROOT_FINGERPRINTS: frozenset[str] = frozenset(
    {G1_PRIVATE_ROOT_SHA256, G4_PRIVATE_ROOT_SHA256}
)

#: PKIoverheid roots that Digikoppeling does not accept, by subject CN, with the reason.
REFUSED_ROOTS: tuple[tuple[str, str], ...] = (
    ("Staat der Nederlanden Root CA - G3",
     "the public PKIoverheid G3 root, not allowed for Digikoppeling since 01-01-2021"),
    ("Staat der Nederlanden Root CA - G2", "the PKIoverheid G2 root, expired in 2020"),
    ("Staat der Nederlanden Root CA", "the first public PKIoverheid root, obsolete"),
    ("Staat der Nederlanden EV Root CA", "the PKIoverheid EV root for websites, not for "
     "Digikoppeling"),
)


class RootKind(enum.Enum):
    """How a root certificate relates to the PKIoverheid private hierarchy."""

    PINNED = "accepted by fingerprint"
    BY_NAME = "PKIoverheid G4 private root, recognised by name"
    IMPOSTOR = "carries a PKIoverheid root name with an unknown fingerprint"
    REFUSED = "a PKIoverheid root that Digikoppeling refuses"
    TRIAL = "a PKIoverheid TRIAL root (test only)"
    OTHER = "not a PKIoverheid root"


@dataclass(frozen=True)
class RootClass:
    """The verdict on a root: its kind and a sentence for people."""

    kind: RootKind
    description: str

    @property
    def is_pkio_private(self) -> bool:
        """True for roots that satisfy the PRE/PROD policy."""
        return self.kind in (RootKind.PINNED, RootKind.BY_NAME)


def normalise_fingerprint(text: str) -> str:
    """Lower-case hex without colons or spaces."""
    return text.replace(":", "").replace(" ", "").strip().lower()


def classify_root(
    root: x509.Certificate,
    accepted_root_fingerprints: Iterable[str] = DEFAULT_ACCEPTED_ROOT_FINGERPRINTS,
) -> RootClass:
    """Classify ``root`` against the accepted fingerprints and the known PKIoverheid names."""
    accepted = {normalise_fingerprint(f) for f in accepted_root_fingerprints}
    name = subject_of(root)
    fingerprint = fingerprint_sha256(root)
    if fingerprint in accepted:
        if fingerprint == G4_PRIVATE_ROOT_SHA256 and name == G4_PRIVATE_ROOT_NAME:
            return RootClass(RootKind.PINNED, f"PKIoverheid G4 private root (accepted by "
                             f"{G4_FINGERPRINT_SOURCE} at https://cert.pkioverheid.nl/)")
        label = "PKIoverheid Private Root G1" if name == G1_PRIVATE_ROOT_NAME else name
        return RootClass(RootKind.PINNED, f"{label} (accepted by fingerprint)")
    if name == G1_PRIVATE_ROOT_NAME:
        return RootClass(
            RootKind.IMPOSTOR,
            f"'{name}' has the name of the PKIoverheid Private Root G1 but not its fingerprint",
        )
    if name == G4_PRIVATE_ROOT_NAME:
        return RootClass(RootKind.BY_NAME, f"'{name}' (PKIoverheid G4 private, by name)")
    for refused, why in REFUSED_ROOTS:
        if name == refused:
            return RootClass(RootKind.REFUSED, f"'{name}' is {why}")
    if "TRIAL" in name.upper() and "PKIOVERHEID" in name.upper():
        return RootClass(RootKind.TRIAL, f"'{name}' is a PKIoverheid TRIAL root (test only)")
    return RootClass(RootKind.OTHER, f"'{name}' is not a PKIoverheid private root")


@dataclass(frozen=True)
class CertificatePath:
    """The path found from the leaf upwards, and why it stopped."""

    certificates: tuple[x509.Certificate, ...]
    ended: str  # "root", "anchor", "missing", "bad_signature", "loop"
    culprit: x509.Certificate | None = None  # the issuer whose signature did not verify

    @property
    def top(self) -> x509.Certificate:
        """The last certificate of the path."""
        return self.certificates[-1]


def _legacy_signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Verify a signature ``verify_directly_issued_by`` refuses to handle (SHA-1): the weak
    hash is reported by the profile check, the chain check only needs to know who signed."""
    algorithm = child.signature_hash_algorithm
    key = issuer.public_key()
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except ValueError:
        try:
            return _legacy_signed_by(child, issuer)
        except UnsupportedAlgorithm:
            return False
    except (InvalidSignature, TypeError, UnsupportedAlgorithm):
        return False
    return True


def build_path(
    leaf: x509.Certificate,
    presented: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate] = (),
) -> CertificatePath:
    """Build the path leaf → … → root from ``presented`` and ``anchors`` (anchors preferred).

    When an issuer is missing but the last certificate found is itself one of ``anchors`` (an
    intermediate configured as trust anchor), the path ends there with ``ended="anchor"``.
    """
    anchor_fps = {fingerprint_sha256(a) for a in anchors}
    pool: list[x509.Certificate] = []
    seen: set[str] = set()
    for cert in (*anchors, *presented):
        fp = fingerprint_sha256(cert)
        if fp not in seen:
            seen.add(fp)
            pool.append(cert)
    path = [leaf]
    used = {fingerprint_sha256(leaf)}
    current = leaf
    for _ in range(len(pool) + 1):
        if is_self_issued(current):
            if _signed_by(current, current):
                return CertificatePath(tuple(path), "root")
            return CertificatePath(tuple(path), "bad_signature", current)
        candidates = [
            c for c in pool if c.subject == current.issuer and fingerprint_sha256(c) not in used
        ]
        if not candidates:
            at_anchor = current is not leaf and fingerprint_sha256(current) in anchor_fps
            return CertificatePath(tuple(path), "anchor" if at_anchor else "missing")
        issuer = next((c for c in candidates if _signed_by(current, c)), None)
        if issuer is None:
            return CertificatePath(tuple(path), "bad_signature", candidates[0])
        path.append(issuer)
        used.add(fingerprint_sha256(issuer))
        current = issuer
    return CertificatePath(tuple(path), "loop")


def _names(path: Sequence[x509.Certificate]) -> str:
    return " → ".join(subject_of(c) for c in path)


def _missing_hint(missing: str) -> str:
    if missing == G1_PRIVATE_ROOT_NAME:
        return (
            f"add the PKIoverheid Private Root CA - G1 to ca_bundle (download "
            f"{G1_PRIVATE_ROOT_URL} and check fingerprint {G1_PRIVATE_ROOT_SHA256})"
        )
    if missing == G4_PRIVATE_ROOT_NAME:
        return (
            "add the PKIoverheid G4 Private G-TLS root (https://cert.pkioverheid.nl/) "
            "to ca_bundle"
        )
    return (
        f"add the CA certificate '{missing}' to your chain file (intermediates) or, if it is "
        "the root, to ca_bundle. PKIoverheid has four levels: root → domain CA → TSP CA → your "
        "certificate, and your adapter must send the intermediates"
    )


def _ca_findings(
    path: Sequence[x509.Certificate], now: dt.datetime | None
) -> list[Finding]:
    findings: list[Finding] = []
    for cert in path[1:]:
        name = subject_of(cert)
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = constraints.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            findings.append(
                error(
                    "pkio.chain.not_a_ca",
                    f"'{name}' issued a certificate in the chain but is not a CA "
                    "(basicConstraints cA is not true)",
                    "the chain file holds a wrong certificate; use the TSP's CA certificates",
                    where=name,
                )
            )
        if now is not None and not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            findings.append(
                error(
                    "pkio.chain.ca_expired",
                    f"CA certificate '{name}' is not valid at {now:%Y-%m-%d} (valid "
                    f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})",
                    "download the current CA certificates from https://cert.pkioverheid.nl/ "
                    "(or regenerate the test PKI)",
                    where=name,
                )
            )
    return findings


def check_chain(
    leaf: x509.Certificate,
    presented: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate] = (),
    *,
    require_pkio_root: bool = True,
    accepted_root_fingerprints: Iterable[str] = DEFAULT_ACCEPTED_ROOT_FINGERPRINTS,
    now: dt.datetime | None = None,
) -> list[Finding]:
    """Findings about the path from ``leaf`` through ``presented`` (the chain the adapter sends)
    to a trust anchor from ``anchors`` (``ca_bundle``), under the root policy above."""
    accepted = frozenset(normalise_fingerprint(f) for f in accepted_root_fingerprints)
    where = subject_of(leaf)
    path = build_path(leaf, presented, anchors)
    evidence = {"path": _names(path.certificates), "levels": str(len(path.certificates))}
    findings: list[Finding] = []
    if path.ended in ("missing", "loop") or (path.ended == "anchor" and require_pkio_root):
        missing = issuer_of(path.top)
        findings.append(
            error(
                "pkio.chain.incomplete",
                f"the chain is incomplete: the issuer '{missing}' of '{subject_of(path.top)}' is "
                "neither in the presented chain nor in ca_bundle",
                _missing_hint(missing),
                where=where,
                missing_issuer=missing,
                **evidence,
            )
        )
        return findings + _ca_findings(path.certificates, now)
    if path.ended == "bad_signature":
        culprit = subject_of(path.culprit) if path.culprit is not None else "?"
        findings.append(
            error(
                "pkio.chain.bad_signature",
                f"the signature on '{subject_of(path.top)}' does not verify with the key of "
                f"'{culprit}'",
                "the chain holds a CA certificate with the right name but the wrong key (an "
                "old or foreign CA certificate); replace it with the issuer's current certificate",
                where=where,
                **evidence,
            )
        )
        return findings + _ca_findings(path.certificates, now)
    findings += _ca_findings(path.certificates, now)
    top = path.top
    anchor_fps = {fingerprint_sha256(a) for a in anchors}
    presented_fps = {fingerprint_sha256(c) for c in presented}
    root_name = subject_of(top)
    root_fp = fingerprint_sha256(top)
    evidence["root_sha256"] = root_fp
    above_leaf = path.certificates[1:-1] if path.ended == "anchor" else path.certificates[1:]
    not_sent = [
        c for c in above_leaf
        if not is_self_issued(c) and fingerprint_sha256(c) not in presented_fps
    ]
    for cert in not_sent:
        findings.append(
            error(
                "pkio.chain.intermediate_not_presented",
                f"intermediate CA '{subject_of(cert)}' is not in the chain your adapter presents "
                "(it was found only in ca_bundle)",
                "add the intermediate CA certificates to the chain file; peers such as DSO-LV "
                "need the whole chain except the root",
                where=where,
                **evidence,
            )
        )
    if path.ended == "anchor":
        findings.append(
            info(
                "pkio.chain.ok",
                f"the chain ends at trust anchor '{root_name}' from ca_bundle",
                where=where,
                **evidence,
            )
        )
        return findings
    root = classify_root(top, accepted)
    in_anchors = root_fp in anchor_fps
    if require_pkio_root:
        if root.kind == RootKind.PINNED:
            findings.append(info("pkio.chain.ok", f"the chain ends at {root.description}",
                                 where=where, **evidence))
        elif root.kind == RootKind.BY_NAME:
            findings.append(
                (info if in_anchors else warning)(
                    "pkio.chain.root_by_name",
                    f"the chain ends at {root.description}; its fingerprint {root_fp} is not "
                    f"the one a secondary source gives ({G4_PRIVATE_ROOT_SHA256}) nor in the "
                    "accepted set"
                    + ("" if in_anchors else ", and the root is not in ca_bundle"),
                    "verify the fingerprint at https://cert.pkioverheid.nl/ and add it to "
                    "[certificate] accepted_root_fingerprints",
                    where=where,
                    **evidence,
                )
            )
        elif root.kind == RootKind.IMPOSTOR:
            findings.append(
                error(
                    "pkio.chain.root_fingerprint",
                    f"{root.description}: {root_fp} instead of {G1_PRIVATE_ROOT_SHA256}; "
                    "DSO-LV will refuse it",
                    f"replace the root with the genuine one from {G1_PRIVATE_ROOT_URL}",
                    where=where,
                    **evidence,
                )
            )
        elif root.kind in (RootKind.REFUSED, RootKind.TRIAL):
            findings.append(
                error(
                    "pkio.chain.wrong_hierarchy",
                    f"{root.description}; DSO-LV will refuse it",
                    "Digikoppeling requires a certificate under the PKIoverheid Private Root "
                    "(G1, or its successor G4 Private G-TLS); order a PKIoverheid private "
                    "services server certificate",
                    where=where,
                    **evidence,
                )
            )
        else:
            source = " (even though it is in ca_bundle)" if in_anchors else ""
            findings.append(
                error(
                    "pkio.chain.not_pkio_root",
                    f"the chain ends at '{root_name}', which is not a PKIoverheid private "
                    f"root{source}; DSO-LV will refuse it",
                    "use a PKIoverheid certificate under the Private Root CA - G1 (or G4 "
                    "Private G-TLS) for PRE and PROD. For a rehearsal against dso-sim serve, "
                    "accept its test root by fingerprint: [certificate] "
                    f"accepted_root_fingerprints (the rehearsal guide: {guide('rehearsal.md')})",
                    where=where,
                    **evidence,
                )
            )
        return findings
    if not (in_anchors or root.kind == RootKind.PINNED):
        findings.append(
            error(
                "pkio.chain.anchor_not_found",
                f"the chain ends at root '{root_name}', which is not in ca_bundle",
                "add this root to ca_bundle if you trust it (in local mode the test root of "
                "dso-certs is trusted automatically)",
                where=where,
                **evidence,
            )
        )
        return findings
    if root.kind in (RootKind.REFUSED, RootKind.TRIAL, RootKind.IMPOSTOR):
        findings.append(
            warning(
                "pkio.chain.wrong_hierarchy",
                f"{root.description}; accepted locally, but DSO-LV will refuse it on PRE/PROD",
                "use a certificate under the PKIoverheid Private Root for PRE and PROD",
                where=where,
                **evidence,
            )
        )
    else:
        note = (
            ""
            if root.is_pkio_private
            else " (accepted locally; PRE/PROD need a PKIoverheid private root)"
        )
        findings.append(
            info("pkio.chain.ok", f"the chain ends at trusted root '{root_name}'{note}",
                 where=where, **evidence)
        )
    return findings


def describe_path(
    leaf: x509.Certificate,
    presented: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate] = (),
) -> str:
    """The issuer chain as ``leaf → … → root`` (for summaries), with a note when incomplete."""
    path = build_path(leaf, presented, anchors)
    text = _names(path.certificates)
    if path.ended in ("missing", "loop", "anchor"):
        text += f" → ? (missing: {short_name(path.top.issuer)})"
    return text
