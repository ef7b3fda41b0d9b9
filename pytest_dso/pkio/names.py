"""Short, readable names for certificates and distinguished names, for use in findings."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def short_name(name: x509.Name) -> str:
    """The common name of ``name``, or its RFC 4514 form when it has no CN."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if values:
        return _text(values[0].value)
    return name.rfc4514_string() or "(empty name)"


def subject_of(certificate: x509.Certificate) -> str:
    """The subject CN (or full subject) of ``certificate``."""
    return short_name(certificate.subject)


def issuer_of(certificate: x509.Certificate) -> str:
    """The issuer CN (or full issuer) of ``certificate``."""
    return short_name(certificate.issuer)


def attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    """The first value of attribute ``oid`` in ``name``, if any."""
    values = name.get_attributes_for_oid(oid)
    return _text(values[0].value) if values else None


def is_self_issued(certificate: x509.Certificate) -> bool:
    """True when subject and issuer are the same name (a root, or a cross-signed self-issue)."""
    return certificate.subject == certificate.issuer
