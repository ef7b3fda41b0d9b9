"""XML Schemas written for this project: exactly what the embedded simulator emits.

They describe this project's documented model of STAM v4 (see :mod:`pytest_dso.stam.xml`), not
the official STAM v4 XSDs, which are published on iplo.nl. Files:

- ``stam-sim-verzoek.xsd`` (root ``vx:verzoek``) importing ``stam-sim-imam.xsd``,
  ``stam-sim-common.xsd`` and ``gml-point-subset.xsd`` (only ``gml:Point``/``gml:pos``);
- ``stam-sim-verzoeknotificatie.xsd`` (root ``vn:verzoeknotificatie``).
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding this project's schemas.
SCHEMA_DIR = Path(__file__).resolve().parent
#: Entry schema for a verzoek.
VERZOEK_XSD = SCHEMA_DIR / "stam-sim-verzoek.xsd"
#: Entry schema for a verzoeknotificatie.
VERZOEKNOTIFICATIE_XSD = SCHEMA_DIR / "stam-sim-verzoeknotificatie.xsd"
