"""STAM: the verzoek and verzoeknotificatie models, their XML, schemas and checks.

- :mod:`.model`: frozen values (``Verzoek``, ``Verzoeknotificatie``, enumerations);
- :mod:`.xml`: render/parse a documented model of STAM v4 XML (not the official XSD layout);
- :mod:`.schemas`: this project's XSDs for exactly what the simulator emits;
- :mod:`.validate`: schema findings and content checks (``validate_verzoek``, ``check_verzoek``);
- :mod:`.verzoeknummer`: the inferred 13-digit form, validation and allocation;
- :mod:`.bijlagen`: deterministic documents of realistic size.
"""

from __future__ import annotations

from pytest_dso.stam.model import Doel, Verzoek, Verzoeknotificatie, VerzoekType
from pytest_dso.stam.validate import check_verzoek, validate_verzoek, validate_verzoeknotificatie
from pytest_dso.stam.xml import (
    StamParseError,
    parse_verzoek,
    parse_verzoeknotificatie,
    render_verzoek,
    render_verzoeknotificatie,
)

__all__ = [
    "Doel",
    "StamParseError",
    "Verzoek",
    "VerzoekType",
    "Verzoeknotificatie",
    "check_verzoek",
    "parse_verzoek",
    "parse_verzoeknotificatie",
    "render_verzoek",
    "render_verzoeknotificatie",
    "validate_verzoek",
    "validate_verzoeknotificatie",
]
