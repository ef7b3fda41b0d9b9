"""Tenants: the bevoegde gezagen and behandeldiensten a run covers, each with its identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_dso.dsofile import BevoegdGezagConfig, PartyConfig
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import STANDARD_PARTIES


@dataclass(frozen=True)
class Tenant:
    """A bevoegd gezag or behandeldienst, and the identity used for mTLS on its behalf."""

    oin: str
    name: str
    type: str
    behandeldiensten: tuple[str, ...] = ()
    identity: Identity | None = field(default=None, compare=False, repr=False)

    @property
    def is_behandeldienst(self) -> bool:
        """True for omgevingsdiensten and samenwerkingsverbanden."""
        return self.type in ("omgevingsdienst", "samenwerkingsverband")


_LOCAL_TYPES = {
    "gemeente": "gemeente",
    "waterschap": "waterschap",
    "omgevingsdienst": "omgevingsdienst",
}


def local_bevoegde_gezagen() -> tuple[BevoegdGezagConfig, ...]:
    """The built-in local set-up: the test PKI's gemeente (with the omgevingsdienst as its
    behandeldienst), waterschap and omgevingsdienst."""
    by_slug = {p.slug: p for p in STANDARD_PARTIES}
    bd = by_slug["omgevingsdienst"].oin
    return tuple(
        BevoegdGezagConfig(
            oin=by_slug[slug].oin,
            name=by_slug[slug].name,
            type=kind,
            behandeldiensten=(bd,) if slug == "gemeente" else (),
        )
        for slug, kind in _LOCAL_TYPES.items()
    )


def local_leverancier() -> PartyConfig:
    """The built-in local leverancier (the test PKI's)."""
    party = next(p for p in STANDARD_PARTIES if p.slug == "leverancier")
    return PartyConfig(oin=party.oin, name=party.name)


class UnknownTenantError(ValueError):
    """A ``--dso-tenant`` value matches no configured bevoegd gezag."""


def select(
    configured: Sequence[BevoegdGezagConfig], wanted: Sequence[str]
) -> tuple[BevoegdGezagConfig, ...]:
    """The configured tenants matching ``wanted`` (OIN or case-insensitive name); all when
    ``wanted`` is empty."""
    if not wanted:
        return tuple(configured)
    chosen: list[BevoegdGezagConfig] = []
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
