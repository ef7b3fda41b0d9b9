"""Plug your VTH- or zaaksysteem into the last step of the aansluitproces.

The fixture ``dso_vth_check`` receives every fetched verzoek (``VerzoekForVth``: verzoeknummer,
tenant, the parsed verzoek, STAM XML, PDF and bijlagen) and returns a ``VthOutcome``. Replace
``DemoVth`` with a client of your own system: look the verzoek up by verzoeknummer, the way your
users would find it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_dso.e2e.vth import VerzoekForVth, VthCheck, VthOutcome


@dataclass
class DemoVth:
    """Stands in for a VTH system: a folder with one JSON file per zaak."""

    folder: Path

    def importeer(self, verzoek: VerzoekForVth) -> None:
        """What your adapter does after ophalen: create a zaak for the verzoek."""
        assert verzoek.verzoek is not None
        zaak = {
            "zaaknummer": f"Z-{verzoek.verzoeknummer}",
            "verzoeknummer": verzoek.verzoeknummer,
            "type": verzoek.verzoek.type.value,
            "behandelaar": verzoek.tenant_oin,
            "bijlagen": sorted(verzoek.documents),
        }
        path = self.folder / f"{verzoek.verzoeknummer}.json"
        path.write_text(json.dumps(zaak), encoding="utf-8")

    def zoek(self, verzoeknummer: str) -> dict[str, object] | None:
        """Find the zaak of a verzoeknummer, as a user of the VTH system would."""
        path = self.folder / f"{verzoeknummer}.json"
        if not path.is_file():
            return None
        data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        return data


@pytest.fixture(scope="session")
def dso_vth_check(tmp_path_factory: pytest.TempPathFactory) -> VthCheck:
    """Overrides pytest-dso's default: checks the demo VTH system."""
    vth = DemoVth(tmp_path_factory.mktemp("demo-vth"))

    def check(verzoek: VerzoekForVth) -> VthOutcome:
        vth.importeer(verzoek)  # in real life your adapter did this already
        zaak = vth.zoek(verzoek.verzoeknummer)
        if zaak is None:
            return VthOutcome.not_visible(f"no zaak for verzoek {verzoek.verzoeknummer}")
        if zaak["behandelaar"] != verzoek.tenant_oin:
            return VthOutcome.not_visible(
                f"zaak {zaak['zaaknummer']} is assigned to {zaak['behandelaar']}")
        return VthOutcome.visible(reference=str(zaak["zaaknummer"]),
                                  detail=f"zaak {zaak['zaaknummer']} ({zaak['type']})")

    return check
