"""Reading certificate fields defensively.

``cryptography`` decodes a certificate's fields only when they are accessed, so a certificate
that loads can still raise later: a 0xFF byte in the subject or in a subjectAltName, a
duplicated extension, an unknown public key. :func:`certificate_problem` reads every field
once and says what cannot be read, so callers turn such a certificate into a finding before
any check touches it.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

#: What reading a field of a damaged certificate may raise.
UNREADABLE = (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension)


def certificate_problem(certificate: x509.Certificate) -> str | None:
    """What cannot be read in ``certificate`` (subject, issuer, validity, extensions, public
    key), or ``None`` when every field decodes."""
    step = "subject"
    try:
        certificate.subject.rfc4514_string()
        step = "issuer"
        certificate.issuer.rfc4514_string()
        step = "validity"
        _ = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        step = "extensions"
        for extension in certificate.extensions:
            _ = extension.value
        step = "public key"
        certificate.public_key()
        step = "signature algorithm"
        _ = certificate.signature_hash_algorithm
    except UNREADABLE as exc:
        return f"its {step} cannot be decoded ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def readable_subject(certificate: x509.Certificate) -> str:
    """The subject as RFC 4514 text, or a placeholder when it cannot be decoded."""
    try:
        return certificate.subject.rfc4514_string()
    except UNREADABLE:
        return "<undecodable subject>"
