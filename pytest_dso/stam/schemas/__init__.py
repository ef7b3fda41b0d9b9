"""XML Schemas written for this project: exactly what the embedded simulator emits.

They describe this project's layout of STAM v4 (see :mod:`pytest_dso.stam.xml`): verzoek
element names and case inferred from public parsers of real messages, the rest this project's
choice. They are not the official STAM v4 XSDs, which are published on iplo.nl. Files:

- ``stam-sim-verzoek.xsd`` (root ``vx:verzoek``, every verzoek element in the ``stam-v4/verzoek``
  namespace) importing ``gml-subset.xsd`` (only ``gml:Point``/``gml:pos`` and a
  ``gml:Polygon`` with one ``gml:posList`` ring);
- ``stam-sim-verzoeknotificatie.xsd`` (root ``vn:verzoeknotificatie``) importing
  ``stam-sim-common.xsd``.
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding this project's schemas.
SCHEMA_DIR = Path(__file__).resolve().parent
#: Entry schema for a verzoek.
VERZOEK_XSD = SCHEMA_DIR / "stam-sim-verzoek.xsd"
#: Entry schema for a verzoeknotificatie.
VERZOEKNOTIFICATIE_XSD = SCHEMA_DIR / "stam-sim-verzoeknotificatie.xsd"
