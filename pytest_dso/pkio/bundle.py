"""Which certificate of a PEM bundle is the leaf, and whether the bundle is in a usable order.

People export bundles in every order: leaf first (what TLS servers send), or root-down (TSP CA,
domain CA, leaf). The leaf is the certificate that matches the private key, or, without a key,
the one that issues none of the others (a CA certificate only when nothing else qualifies).
The order is reported as a warning, because many TLS servers send the file as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from pytest_dso.findings import Finding, warning
from pytest_dso.pkio.names import is_self_issued, subject_of


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issues_another(cert: x509.Certificate, others: Sequence[x509.Certificate]) -> bool:
    return any(o is not cert and not is_self_issued(o) and o.issuer == cert.subject
               for o in others)


def find_leaf(certificates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """The end-entity certificate of ``certificates``: one that issues none of the others,
    preferring a non-CA certificate; ``None`` for an empty sequence."""
    if not certificates:
        return None
    issuing_none = [c for c in certificates if not _issues_another(c, certificates)]
    for pool in ([c for c in issuing_none if not _is_ca(c)], issuing_none, list(certificates)):
        if pool:
            return pool[0]
    return None


def order_findings(
    certificates: Sequence[x509.Certificate], leaf: x509.Certificate, where: str
) -> list[Finding]:
    """A WARNING when ``leaf`` is not the first certificate of the file, or when the CA
    certificates after it do not follow the issuing order (each the issuer of the one before)."""
    if not certificates or leaf not in certificates:
        return []
    position = certificates.index(leaf)
    rest = [c for c in certificates if c is not leaf]
    in_order = position == 0
    current = leaf
    for cert in rest:
        if not in_order:
            break
        if cert.subject != current.issuer:
            in_order = False
        current = cert
    if in_order:
        return []
    listed = " → ".join(f"'{subject_of(c)}'" for c in certificates)
    return [warning(
        "pkio.load.bundle_order",
        f"the file lists {listed}; the leaf '{subject_of(leaf)}' is certificate "
        f"{position + 1} of {len(certificates)}. Read correctly here, but TLS servers usually "
        "send the file as it is",
        "put the leaf first, then the TSP CA, then the domain CA (issuing order, root left "
        "out)",
        where=where,
    )]
