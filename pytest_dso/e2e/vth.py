"""The last step of the aansluitproces: "the verzoek is visible in the VTH- or zaaksysteem".

No harness can look inside every VTH system, so this is an extension point: a leverancier
plugs in a check for its own system (override the ``dso_vth_check`` fixture, or implement the
``pytest_dso_vth_check`` hook) that receives the fetched verzoek and returns a
:class:`VthOutcome`. The outcome is recorded as the evidence of the final step (PRE 4.2 /
PROD 7); without a check the step is recorded as manual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pytest_dso.stam.model import Verzoek

VthStatus = Literal["visible", "not_visible", "manual", "error"]


@dataclass(frozen=True)
class VerzoekForVth:
    """What a VTH check receives: the fetched verzoek and who it was fetched for."""

    verzoeknummer: str
    tenant_oin: str
    tenant_name: str
    env: str
    verzoek: Verzoek | None
    stam_xml: bytes = field(default=b"", repr=False)
    pdf: bytes = field(default=b"", repr=False)
    documents: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    ticket: str | None = None


@dataclass(frozen=True)
class VthOutcome:
    """The result of a VTH check.

    ``visible``: the check found the verzoek in the VTH system (``reference`` may carry the
    zaak id); ``not_visible``: it looked and did not find it (the step fails); ``manual``: no
    automated check, a person must confirm with a screenshot; ``error``: the check itself
    could not run (the step fails, with ``detail``).
    """

    status: VthStatus
    detail: str = ""
    reference: str = ""
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    evidence: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def visible(cls, reference: str = "", detail: str = "") -> VthOutcome:
        """The verzoek was found in the VTH system."""
        return cls("visible", detail or "the verzoek is visible in the VTH system", reference)

    @classmethod
    def not_visible(cls, detail: str) -> VthOutcome:
        """The verzoek was not found."""
        return cls("not_visible", detail)

    @classmethod
    def manual(cls, detail: str = "") -> VthOutcome:
        """No automated check is configured."""
        return cls("manual", detail or NOT_CONFIGURED)

    @property
    def proven(self) -> bool:
        """True when the check proved visibility."""
        return self.status == "visible"

    @property
    def failed(self) -> bool:
        """True when the check ran and the verzoek is not (provably) there."""
        return self.status in ("not_visible", "error")


NOT_CONFIGURED = (
    "no VTH check is configured: confirm by hand that the verzoek is visible in the VTH- or "
    "zaaksysteem and mail a screenshot to DSO-beheer (override the dso_vth_check fixture or "
    "implement the pytest_dso_vth_check hook to automate this)"
)


class VthCheck(Protocol):
    """The callable a ``dso_vth_check`` fixture returns."""

    def __call__(self, verzoek: VerzoekForVth) -> VthOutcome: ...


def not_configured(verzoek: VerzoekForVth) -> VthOutcome:
    """The default check: records the step as manual, with the evidence it needs."""
    return VthOutcome.manual(
        f"{NOT_CONFIGURED}. Screenshot must show verzoeknummer {verzoek.verzoeknummer} for "
        f"{verzoek.tenant_name} ({verzoek.tenant_oin})"
        + (" and clearly show PROD" if verzoek.env == "prod" else "")
    )
