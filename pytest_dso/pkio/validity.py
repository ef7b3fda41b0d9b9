"""Certificate validity period: not yet valid, expired, or expiring soon.

Renewing a PKIoverheid certificate means a new key pair and therefore a new CPA, and the CPA
register sets a CPA's end date to the earliest certificate expiry, so a warning comes early.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.pkio.names import subject_of


def days_left(cert: x509.Certificate, now: dt.datetime) -> int:
    """Whole days from ``now`` until the certificate expires (negative once expired)."""
    return (cert.not_valid_after_utc - now).days


def check_validity(
    cert: x509.Certificate, now: dt.datetime, expiry_warning_days: int = 30
) -> list[Finding]:
    """Findings about the validity of ``cert`` at ``now`` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    where = subject_of(cert)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    left = days_left(cert, now)
    evidence = {
        "not_before": start.isoformat(),
        "not_after": end.isoformat(),
        "days_left": str(left),
    }
    if now < start:
        return [
            error(
                "pkio.validity.not_yet_valid",
                f"the certificate is not valid yet: it starts on {start:%Y-%m-%d %H:%M} UTC",
                "wait until the start date, or check the clock of this machine",
                where=where,
                **evidence,
            )
        ]
    if now > end:
        return [
            error(
                "pkio.validity.expired",
                f"the certificate expired on {end:%Y-%m-%d %H:%M} UTC ({-left} days ago)",
                "request a new certificate (with a new key pair) and a new CPA",
                where=where,
                **evidence,
            )
        ]
    if left < expiry_warning_days:
        return [
            warning(
                "pkio.validity.expiring",
                f"the certificate expires on {end:%Y-%m-%d} UTC, in {left} days",
                "start the renewal now: a new certificate means a new key pair and a new CPA",
                where=where,
                **evidence,
            )
        ]
    return [
        info(
            "pkio.validity.ok",
            f"valid until {end:%Y-%m-%d} UTC ({left} days left)",
            where=where,
            **evidence,
        )
    ]
