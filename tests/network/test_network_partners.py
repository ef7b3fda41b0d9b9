"""TLS partners from a CPA built with the project's CPA writer and read with its parser."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_dso.ebms.cpa import CpaError, parse_cpa
from pytest_dso.ebms.cpa_build import CpaSpec, PartySpec, build_cpa
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.partners import cpa_partner_urls, partners_from_urls
from pytest_dso.pkio.testpki import TestPki


def _cpa(pki: TestPki) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    dso = PartySpec(
        name="DSO-LV", party_id=pki.party("dso-lv").oin,
        certificate=pki.leaves["dso-lv"].certificate,
        endpoint="https://ebms.dso.example:8443/ebms", role="DSO",
    )
    dka = PartySpec(
        name="Digikoppelaar", party_id=pki.party("digikoppelaar").oin,
        certificate=pki.leaves["digikoppelaar"].certificate,
        endpoint="https://dka.example.nl/ebms", role="BG",
    )
    return build_cpa(CpaSpec("cpa-test", (dso, dka), now, now + dt.timedelta(days=30)))


def test_the_other_partys_endpoint_is_the_partner(pki: TestPki) -> None:
    cpa = parse_cpa(_cpa(pki))
    urls = cpa_partner_urls(cpa, [pki.party("digikoppelaar").oin], "CPA cpa.xml")
    assert urls == [("CPA cpa.xml, DSO-LV", "https://ebms.dso.example:8443/ebms")]
    (partner,) = partners_from_urls(urls)
    assert partner.endpoint == Endpoint("ebms.dso.example", 8443)
    assert partner.server_hostname == "ebms.dso.example"


def test_a_cpa_without_our_oin_is_refused_with_its_parties(pki: TestPki) -> None:
    cpa = parse_cpa(_cpa(pki))
    with pytest.raises(CpaError, match=r"no party with OIN 00000001000000000000.*DSO-LV"):
        cpa_partner_urls(cpa, ["00000001000000000000"], "CPA cpa.xml")
