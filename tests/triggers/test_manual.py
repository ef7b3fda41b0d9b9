"""The manual source: --dso-verzoeknummer forms, no waiting."""

from __future__ import annotations

import time

import pytest

from pytest_dso.triggers.base import TriggerTimeout
from pytest_dso.triggers.manual import ManualInputError, ManualTriggerSource, parse_manual

BG = "00000099000000101000"
BD = "00000099000000201000"


def test_forms_of_the_option() -> None:
    assert parse_manual(None) == {}
    assert parse_manual(" 2025030100001 ") == {None: "2025030100001"}
    assert parse_manual(f"{BG}=2025030100001, {BD}=2025030100002") == {
        BG: "2025030100001", BD: "2025030100002"}
    with pytest.raises(ManualInputError, match="OIN=NUMMER"):
        parse_manual("2025030100001,2025030100002")


def test_a_given_number_is_never_a_received_trigger_and_waiting_never_blocks() -> None:
    source = ManualTriggerSource({BG: "2025030100001"})
    source.start()
    source.start()  # idempotent
    t0 = time.monotonic()
    with pytest.raises(TriggerTimeout, match="proves the submission only"):
        source.wait_for("2025030100001", 60.0, recipient_oin=BG)
    assert time.monotonic() - t0 < 1.0
    assert source.all() == []  # nothing observed, so nothing to count as received
    assert not source.observes
    assert source.for_tenant(BG, only_tenant=False) == "2025030100001"
    assert source.for_tenant(BD, only_tenant=False) is None


def test_a_bare_number_counts_for_the_only_tenant() -> None:
    source = ManualTriggerSource({None: "2025030100003"})
    assert source.for_tenant(BG, only_tenant=True) == "2025030100003"
    assert source.for_tenant(BG, only_tenant=False) is None
