"""Is the certificate chain a TLS server sends complete? PKIoverheid has four levels.

A PKIoverheid server must send its own certificate, the TSP CA and the domain CA; the root is
the trust anchor on the client and may be left out. A missing intermediate works in a browser
that fetches it (AIA) but fails in most Digikoppeling adapters.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from pytest_dso.findings import Finding, error, info, warning

#: Certificates a PKIoverheid server sends at least: leaf, TSP CA, domain CA.
PKIO_SENT_LEVELS = 3


def display_name(name: x509.Name) -> str:
    """The common name of ``name``, or the whole name when it has none."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if values:
        value = values[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s name matches and its key verifies ``certificate``'s signature."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):  # also: unsupported key types
        return False
    return True


def is_self_signed(certificate: x509.Certificate) -> bool:
    """True for a self-issued certificate whose signature its own key verifies (a root)."""
    return issued_by(certificate, certificate)


def build_path(sent: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The path from the leaf (``sent[0]``) upwards using only the certificates sent."""
    if not sent:
        return ()
    path = [sent[0]]
    pool = list(sent[1:])
    for _ in range(len(sent)):
        top = path[-1]
        if is_self_signed(top):
            break
        parent = next((c for c in pool if issued_by(top, c)), None)
        if parent is None:
            break
        path.append(parent)
        pool.remove(parent)
    return tuple(path)


def check_sent_chain(
    sent: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate] = (),
    *,
    where: str = "",
    levels: int = PKIO_SENT_LEVELS,
) -> list[Finding]:
    """Findings about the chain a server sent (leaf first).

    With ``trust`` anchors the chain is complete when the top of the path the server sent is
    issued by an anchor (or is one). Without anchors, a path that ends below a root must hold at
    least ``levels`` certificates (leaf, TSP CA, domain CA). A missing intermediate is an ERROR
    (``network.tls.chain.incomplete``) naming the certificate to add.
    """
    if not sent:
        return [
            error(
                "network.tls.chain.empty",
                "the server sent no certificate",
                "configure the server certificate and its intermediates on the TLS endpoint",
                where=where,
            )
        ]
    findings: list[Finding] = []
    path = build_path(sent)
    in_order = tuple(sent[: len(path)]) == path
    if not in_order:
        findings.append(
            warning(
                "network.tls.chain.order",
                "the server sends its certificates out of order (each must be followed by its "
                "issuer)",
                "list the certificates leaf first, then the TSP CA, then the domain CA",
                where=where,
            )
        )
    unused = [c for c in sent if c not in path]
    if unused:
        findings.append(
            info(
                "network.tls.chain.extra",
                "the server also sends certificates that are not part of its chain: "
                + ", ".join(display_name(c.subject) for c in unused),
                "remove certificates that do not belong to this chain",
                where=where,
            )
        )
    top = path[-1]
    names = " → ".join(display_name(c.subject) for c in path)
    evidence = {"sent": str(len(sent)), "path": names}
    if is_self_signed(top):
        return [*findings, info("network.tls.chain.complete",
                                f"complete chain up to the root: {names}", where=where,
                                **evidence)]
    anchor = next((a for a in trust if a == top or issued_by(top, a)), None)
    if anchor is not None:
        return [*findings, info("network.tls.chain.complete",
                                f"complete chain: {names} (anchored at "
                                f"{display_name(anchor.subject)})", where=where, **evidence)]
    missing = display_name(top.issuer)
    if trust or len(path) < levels:
        reason = (
            "none of the trust anchors issued it"
            if trust
            else f"a PKIoverheid chain has four levels and only {len(path)} were sent"
        )
        return [
            *findings,
            error(
                "network.tls.chain.incomplete",
                f"incomplete chain: the server sends {names} but not the certificate of "
                f"'{missing}', the issuer of '{display_name(top.subject)}' ({reason})",
                f"add the intermediate certificate '{missing}' to the server's certificate chain "
                "(leaf, TSP CA, domain CA); if it is a root, add it to the trust anchors",
                where=where,
                missing=top.issuer.rfc4514_string(),
                **evidence,
            ),
        ]
    return [
        *findings,
        info(
            "network.tls.chain.unanchored",
            f"chain of {len(path)} levels sent ({names}); not checked against trust anchors",
            "configure [certificate] ca_bundle to check the chain up to its root",
            where=where,
            **evidence,
        ),
    ]
