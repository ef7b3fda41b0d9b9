"""Shared pieces of the trigger-source self-tests: a fast EC test PKI and notificaties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.pkio.testpki import TestPki, build_test_pki
from pytest_dso.stam.model import Verzoeknotificatie, VerzoekType
from pytest_dso.stam.xml import render_verzoeknotificatie

GEMEENTE = "00000099000000101000"
DSO = "00000099000000001000"


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """The standard test parties with EC keys (quick to make)."""
    return build_test_pki(key_type="ec256")


def _notificatie(nummer: str, ontvanger: str = GEMEENTE) -> bytes:
    return render_verzoeknotificatie(
        Verzoeknotificatie(
            verzoeknummer=nummer,
            volgnummer=0,
            type=VerzoekType.MELDING,
            bevoegd_gezag_oin=ontvanger,
            ontvanger_oin=ontvanger,
            tijdstip=dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC),
        )
    )


@pytest.fixture
def notificatie() -> Callable[..., bytes]:
    """Builds a verzoeknotificatie (as the simulator renders it) for a verzoeknummer."""
    return _notificatie
