"""Fault injection model: parsing, counting and expiry of faults."""

from __future__ import annotations

import re

import pytest

from pytest_dso.sim.faults import Fault, FaultError, FaultInjector, parse_fault, parse_faults


def test_http_503_applies_to_the_next_n_requests_in_scope() -> None:
    faults = FaultInjector([parse_fault({"kind": "http_503", "count": 2, "scope": "ebms"})])
    assert faults.http_status("api") is None
    assert faults.http_status("ebms") == 503
    assert faults.http_status("ebms") == 503
    assert faults.http_status("ebms") is None
    assert faults.fired("http_503") == 2
    assert faults.active() == ()


def test_delay_without_count_stays_until_cleared() -> None:
    faults = FaultInjector([parse_fault({"kind": "delay", "seconds": 0.5, "count": 0})])
    assert [faults.delay("api") for _ in range(3)] == [0.5, 0.5, 0.5]
    faults.clear("delay")
    assert faults.delay("api") == 0.0


def test_clock_skew_replaces_previous_and_server_cert_mode() -> None:
    faults = FaultInjector()
    faults.add(parse_fault({"kind": "clock_skew", "seconds": 60}))
    faults.add(parse_fault({"kind": "clock_skew", "seconds": -30}))
    assert faults.clock_skew() == -30
    faults.add(parse_fault({"kind": "server_cert", "mode": "expired", "count": 1}))
    assert faults.server_certificate() == "expired"
    assert faults.server_certificate() is None


def test_drop_acks_and_duplicate_sends_count_down() -> None:
    faults = FaultInjector(parse_faults({"drop_acks": 1, "duplicate_send": {"count": 1}}))
    assert faults.drop_ack() is True
    assert faults.drop_ack() is False
    assert faults.duplicate_send() is True
    assert faults.duplicate_send() is False
    assert faults.snapshot()["fired"] == {"drop_acks": 1, "duplicate_send": 1}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "explode"}, "fault kind 'explode' is not known"),
        ({"kind": "delay"}, "0 < seconds"),
        ({"kind": "http_503", "count": -1}, "whole number"),
        ({"kind": "http_503", "scope": "ftp"}, "scope 'ftp'"),
        ({"kind": "server_cert", "mode": "odd"}, "mode 'expired' or 'wrong'"),
        ({"kind": "http_503", "colour": "red"}, "unknown fault field(s) colour"),
        ({"kind": "http_503", "count": "two"}, "must be a number"),
    ],
)
def test_bad_faults_are_refused_with_a_readable_reason(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(FaultError, match=re.escape(message)):
        parse_fault(raw)


def test_fault_json_round_trip() -> None:
    fault = Fault("http_503", 3, "api")
    assert parse_fault(fault.to_json()) == fault
