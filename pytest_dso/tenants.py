"""Tenants: the bevoegde gezagen and behandeldiensten a run covers, each with its identity.

:class:`Tenant` is the one type for such an organisation wherever it appears: a
``[[bevoegd_gezag]]`` of dso.toml, the tenant a submission is planned for, a tenant of the
evidence, a ``--bevoegd-gezag`` of ``dso-init``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pytest_dso.pkio.config import CertificateConfig
from pytest_dso.pkio.parties import STANDARD_PARTIES

if TYPE_CHECKING:
    from pytest_dso.pkio.identity import Identity

#: The types of organisation that connect (``type`` of a ``[[bevoegd_gezag]]``).
BG_TYPES = (
    "gemeente",
    "waterschap",
    "provincie",
    "omgevingsdienst",
    "samenwerkingsverband",
    "rijk",
)
#: The types that handle verzoeken on behalf of a bevoegd gezag.
BEHANDELDIENST_TYPES = ("omgevingsdienst", "samenwerkingsverband")


@dataclass(frozen=True)
class Tenant:
    """A bevoegd gezag or behandeldienst: OIN, name, type (one of :data:`BG_TYPES`; empty
    where unknown, e.g. in evidence read back), the behandeldiensten it routes to, its own
    ``certificate`` when configured, and the identity used for mTLS on its behalf once
    loaded."""

    oin: str
    name: str
    type: str = ""
    behandeldiensten: tuple[str, ...] = ()
    certificate: CertificateConfig | None = None
    identity: Identity | None = field(default=None, compare=False, repr=False)

    @property
    def is_behandeldienst(self) -> bool:
        """True for omgevingsdiensten and samenwerkingsverbanden."""
        return self.type in BEHANDELDIENST_TYPES

    @property
    def who(self) -> str:
        """``Gemeente X (OIN 0000…)``."""
        return f"{self.name} (OIN {self.oin})"

    def with_identity(self, identity: Identity | None) -> Tenant:
        """This tenant acting with ``identity``."""
        return replace(self, identity=identity)


_LOCAL_TYPES = {
    "gemeente": "gemeente",
    "waterschap": "waterschap",
    "omgevingsdienst": "omgevingsdienst",
}


def local_bevoegde_gezagen() -> tuple[Tenant, ...]:
    """The built-in local set-up: the test PKI's gemeente (with the omgevingsdienst as its
    behandeldienst), waterschap and omgevingsdienst."""
    by_slug = {p.slug: p for p in STANDARD_PARTIES}
    bd = by_slug["omgevingsdienst"].oin
    return tuple(
        Tenant(
            oin=by_slug[slug].oin,
            name=by_slug[slug].name,
            type=kind,
            behandeldiensten=(bd,) if slug == "gemeente" else (),
        )
        for slug, kind in _LOCAL_TYPES.items()
    )


class UnknownTenantError(ValueError):
    """A ``--dso-tenant`` value matches no configured bevoegd gezag."""


def select(configured: Sequence[Tenant], wanted: Sequence[str]) -> tuple[Tenant, ...]:
    """The configured tenants matching ``wanted`` (OIN or case-insensitive name); all when
    ``wanted`` is empty."""
    if not wanted:
        return tuple(configured)
    chosen: list[Tenant] = []
    for item in wanted:
        key = item.strip().lower()
        match = [bg for bg in configured if bg.oin == item.strip() or bg.name.lower() == key]
        if not match:
            known = "; ".join(f"{bg.oin} ({bg.name})" for bg in configured) or "none configured"
            raise UnknownTenantError(
                f"--dso-tenant {item!r} matches no [[bevoegd_gezag]] by OIN or name. Known: {known}"
            )
        chosen.extend(m for m in match if m not in chosen)
    return tuple(chosen)
