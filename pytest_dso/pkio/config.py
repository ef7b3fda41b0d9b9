"""Where a PKIoverheid certificate comes from: ``[certificate]`` of dso.toml (also per
``[[bevoegd_gezag]]``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CertificateConfig:
    """``[certificate]``: the PKIoverheid certificate used for mTLS."""

    cert: Path | None = None
    key: Path | None = None
    pkcs12: Path | None = None
    chain: Path | None = None
    ca_bundle: Path | None = None
    passphrase_env: str | None = None
    passphrase_file: Path | None = None
    expiry_warning_days: int = 30
    host: str | None = None
    oin: str | None = None
    accepted_root_fingerprints: tuple[str, ...] = ()
