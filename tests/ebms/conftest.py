"""Shared helpers for the ebMS engine self-tests: hand-written fixtures and a test PKI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from pytest_dso.ebms.cpa_build import CpaSpec, PartySpec
from pytest_dso.pkio.testpki import TestPki, build_test_pki

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def ebms_data() -> Callable[[str], bytes]:
    """Read a hand-written fixture from tests/ebms/data."""

    def read(name: str) -> bytes:
        return (DATA / name).read_bytes()

    return read


def _shape(element: etree._Element) -> tuple[object, ...]:
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    return (
        element.tag,
        tuple(sorted(element.attrib.items())),
        text,
        tuple(_shape(child) for child in children),
    )


def xml_shape(data: bytes) -> tuple[object, ...]:
    """A prefix- and whitespace-independent picture of an XML document (comments dropped)."""
    parser = etree.XMLParser(remove_comments=True, resolve_entities=False, no_network=True)
    return _shape(etree.fromstring(data, parser))


@pytest.fixture(scope="session")
def ebms_shape() -> Callable[[bytes], tuple[object, ...]]:
    """The :func:`xml_shape` function, for comparing documents structurally."""
    return xml_shape


@pytest.fixture(scope="session")
def ebms_pki() -> TestPki:
    """A fast (EC) test PKI for CPA tests."""
    return build_test_pki(key_type="ec256")


@pytest.fixture(scope="session")
def ebms_clean_spec(ebms_pki: TestPki) -> CpaSpec:
    """A clean CPA spec between DSO-LV and the Digikoppelaar, valid around ``ebms_now``."""
    dso = ebms_pki.leaves["dso-lv"].certificate
    dka = ebms_pki.leaves["digikoppelaar"].certificate
    return CpaSpec(
        cpa_id="DSO-SIM_00000099000000001000_00000099000000002000_1",
        parties=(
            PartySpec(
                name="DSO-LV", party_id=ebms_pki.party("dso-lv").oin, certificate=dso,
                endpoint="https://dso-lv.test.localhost/ebms", role="Verzender",
                sends=("Verzoeknotificatie",),
            ),
            PartySpec(
                name="Digikoppelaar", party_id=ebms_pki.party("digikoppelaar").oin,
                certificate=dka, endpoint="https://digikoppelaar.test.localhost/ebms",
                role="Ontvanger",
            ),
        ),
        start=min(dso.not_valid_before_utc, dka.not_valid_before_utc),
        end=min(dso.not_valid_after_utc, dka.not_valid_after_utc),
    )


@pytest.fixture(scope="session")
def ebms_now(ebms_clean_spec: CpaSpec) -> dt.datetime:
    """A moment well inside the clean CPA's validity."""
    return ebms_clean_spec.start + dt.timedelta(days=10)
