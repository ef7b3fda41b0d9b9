"""The named parties of the standard test PKI and their test OINs: plain data, no
cryptography, so configuration and tenant handling can use them without loading it."""

from __future__ import annotations

from dataclasses import dataclass

#: PKIoverheid requests the test OIN prefix; the G4 trial wants ^00000099[0-9]{9}000$.
TEST_OIN_PREFIX = "00000099"


def test_oin(number: int) -> str:
    """A test OIN ``00000099`` + 9-digit number + ``000``."""
    if not 0 <= number < 10**9:
        raise ValueError("test OIN number must have at most 9 digits")
    return f"{TEST_OIN_PREFIX}{number:09d}000"


test_oin.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EndEntity:
    """A named end entity of the standard test PKI."""

    slug: str
    role: str
    name: str
    oin: str
    dns_names: tuple[str, ...] = ("localhost",)


#: The end entities ``dso-certs`` creates: the DSO-LV stand-in, a Digikoppelaar, a leverancier,
#: two bevoegde gezagen and a behandeldienst.
STANDARD_PARTIES: tuple[EndEntity, ...] = (
    EndEntity("dso-lv", "dso-lv", "TEST DSO-LV simulator", test_oin(1)),
    EndEntity("digikoppelaar", "digikoppelaar", "TEST Digikoppelaar", test_oin(2)),
    EndEntity("leverancier", "leverancier", "TEST VTH-leverancier", test_oin(3)),
    EndEntity("gemeente", "bevoegd_gezag", "TEST Gemeente Oefenstad", test_oin(101)),
    EndEntity("waterschap", "bevoegd_gezag", "TEST Waterschap Oefenwater", test_oin(102)),
    EndEntity("omgevingsdienst", "behandeldienst", "TEST Omgevingsdienst Oefenregio",
              test_oin(201)),
)
