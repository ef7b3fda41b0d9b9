"""What to submit for a tenant: the aansluitactiviteit, its toestemming, the bevoegd gezag it
goes to and where (aansluitproces.md §8).

- gemeente, waterschap, provincie: the tenant's own aansluitactiviteit, a **Melding**, at an
  address inside its area;
- omgevingsdienst, samenwerkingsverband: **Informatie** at an address inside a gemeente that
  routes the activiteit to it (a ``[[bevoegd_gezag]]`` naming it in ``behandeldiensten``);
- rijk: the Rijk aansluitactiviteit, submitted through **"Ergens anders indienen"** to the
  instantie.

Activiteit names come from the environment profile (``aansluitactiviteiten``); the loket steps
from the simulator's activiteiten catalogue, which follows the process document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pytest_dso.environments import EnvironmentProfile
from pytest_dso.stam.model import VerzoekType
from pytest_dso.tenants import BEHANDELDIENST_TYPES, Tenant


class PlanError(ValueError):
    """No submission can be planned for the tenant; the message says what to configure."""


@dataclass(frozen=True)
class SubmissionPlan:
    """The submission that must make a trigger reach ``tenant``."""

    tenant: Tenant
    env: str
    activiteit: str
    verzoektype: VerzoekType
    bevoegd_gezag: Tenant
    locatie_oin: str
    filter: str
    loket_url: str
    ergens_anders_indienen: bool = False
    testdatum: dt.date | None = None
    via_behandeldienst: bool = False

    @property
    def toestemming(self) -> str:
        """``Melding`` or ``Informatie``."""
        return self.verzoektype.value

    def steps(self) -> tuple[str, ...]:
        """The loket steps for a person, in order."""
        steps: list[str] = [f"Open the Omgevingsloket at {self.loket_url}"]
        if self.env == "prod":
            steps.append("Log in with eHerkenning for production (DSO Omgevingsloket), tab "
                         "'Aansluiten' or 'Aanvragen'")
        else:
            steps.append("Log in with eHerkenning or an Omgevingsloket ID")
        if self.testdatum is not None:
            steps.append(f"Set the testdatum to {self.testdatum:%d-%m-%Y} (on or after it), "
                         "otherwise the aansluitactiviteiten are not visible")
        if self.via_behandeldienst:
            where = (f"inside gemeente {self.bevoegd_gezag.name} ({self.bevoegd_gezag.oin}), "
                     f"which routes the activiteit to {self.tenant.name}")
        elif self.ergens_anders_indienen:
            where = "anywhere"
        else:
            where = f"inside the area of {self.bevoegd_gezag.name}"
        steps.append(f"Choose an address {where}")
        steps.append(f"Filter on {self.filter!r} and choose the activiteit {self.activiteit!r} "
                     f"(toestemming {self.toestemming})")
        steps.append("Fill in your name at the question in step 4")
        if self.ergens_anders_indienen:
            steps.append(f"At '7. Verzoeken indienen' choose 'Ergens anders indienen' and select "
                         f"{self.tenant.name}")
        steps.append("Submit as 'Definitief verzoek' and note the verzoeknummer")
        return tuple(steps)


def _toestemming_of(activiteit: str) -> VerzoekType:
    last = activiteit.replace("-", "–").rsplit("–", 1)[-1].strip().casefold()
    if last == "informatie":
        return VerzoekType.INFORMATIE
    return VerzoekType.MELDING


_FILTERS = {
    "gemeente": "Gemeente",
    "waterschap": "Waterschap",
    "provincie": "Rijk",
    "omgevingsdienst": "Gemeente",
    "samenwerkingsverband": "Gemeente",
    "rijk": "Rijk",
}


def plan_for(tenant: Tenant, parties: Sequence[Tenant],
             profile: EnvironmentProfile) -> SubmissionPlan:
    """The submission plan for ``tenant`` among the configured ``parties``."""
    try:
        activiteit = profile.aansluitactiviteiten[tenant.type]
    except KeyError:
        raise PlanError(
            f"no aansluitactiviteit is known for type {tenant.type!r} in {profile.name}"
        ) from None
    env = profile.name
    plan = SubmissionPlan(
        tenant=tenant,
        env=env,
        activiteit=activiteit,
        verzoektype=_toestemming_of(activiteit),
        bevoegd_gezag=tenant,
        locatie_oin=tenant.oin,
        filter="Aansluitactiviteit" if env == "prod" else _FILTERS.get(tenant.type, "Gemeente"),
        loket_url=profile.omgevingsloket_url,
        ergens_anders_indienen=tenant.type == "rijk",
        testdatum=profile.testdatum,
    )
    if tenant.type not in BEHANDELDIENST_TYPES:
        return plan
    routing = [p for p in parties if tenant.oin in p.behandeldiensten and p.oin != tenant.oin]
    if not routing:
        raise PlanError(
            f"{tenant.name} ({tenant.oin}) is a behandeldienst, but no configured bevoegd "
            "gezag routes to it; add its OIN to 'behandeldiensten' of the gemeente in "
            "[[bevoegd_gezag]] (and make sure that gemeente has a behandeldienstconfiguratie "
            f"for {activiteit!r})"
        )
    bg = routing[0]
    return replace(
        plan,
        bevoegd_gezag=bg,
        locatie_oin=bg.oin,
        via_behandeldienst=True,
        verzoektype=VerzoekType.INFORMATIE,
    )
