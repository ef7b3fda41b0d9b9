"""CPA inladen (PRE 2.4, PROD 3): the Digikoppelaar offers the CPA to DSO-LV through CPA
aanbieden with its PKIoverheid certificate. Changes state, so it runs only with
``--dso-allow-writes`` (PRE) or ``--dso-allow-prod-writes`` (PROD); the response is the
evidence. Without writes, offer it with ``dso-cpa offer``.
"""

from __future__ import annotations

import pytest

from pytest_dso.dso.cpa_aanbieden import CpaOffer
from pytest_dso.evidence.allure import Evidence
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.writes, pytest.mark.dso_step("PRE 2.4")]


def test_cpa_aangeboden(dso_cpa_offer: CpaOffer, dso_evidence: Evidence) -> None:
    """DSO-LV accepts the CPA offered through CPA aanbieden."""
    dso_evidence.attach_json(dso_cpa_offer.evidence(), "CPA aanbieden")
    expect_clean(dso_cpa_offer.findings, "CPA aanbieden")
