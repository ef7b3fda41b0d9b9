"""Verzoeknummer format, validation (warning, not failure) and allocation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from pytest_dso.findings import Severity
from pytest_dso.stam.verzoeknummer import (
    MAX_SEQUENCE,
    MemoryCounters,
    VerzoeknummerAllocator,
    VerzoeknummerExhaustedError,
    check_verzoeknummer,
    format_verzoeknummer,
    parse_verzoeknummer,
)


def test_format_is_date_plus_five_digit_sequence() -> None:
    assert format_verzoeknummer(dt.date(2022, 7, 5), 133) == "2022070500133"
    assert parse_verzoeknummer("2026060200019") == (dt.date(2026, 6, 2), 19)


@pytest.mark.parametrize(
    "value", ["OLO1234567", "20220705001", "2022130500133", "2022070500133_BG_1"]
)
def test_parse_rejects_other_forms(value: str) -> None:
    assert parse_verzoeknummer(value) is None


@pytest.mark.parametrize("sequence", [0, MAX_SEQUENCE + 1])
def test_format_rejects_sequence_out_of_range(sequence: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        format_verzoeknummer(dt.date(2026, 1, 1), sequence)


def test_real_examples_give_no_findings() -> None:
    assert check_verzoeknummer("2022070500133") == []
    assert check_verzoeknummer("2026060200019") == []


def test_other_form_is_a_warning_not_an_error() -> None:
    findings = check_verzoeknummer("OLO1234567")
    assert [f.check for f in findings] == ["stam.verzoeknummer.format"]
    assert findings[0].severity == Severity.WARNING
    assert "verzoeknummer_pattern" in findings[0].hint


def test_thirteen_digits_without_a_date_warns() -> None:
    findings = check_verzoeknummer("2022139900001")
    assert [f.check for f in findings] == ["stam.verzoeknummer.date"]


def test_configured_pattern_is_used() -> None:
    assert check_verzoeknummer("OLO1234567", r"^OLO\d+$") == []
    assert check_verzoeknummer("2022070500133", r"^OLO\d+$")[0].severity == Severity.WARNING


def test_invalid_pattern_is_reported_not_raised() -> None:
    findings = check_verzoeknummer("2022070500133", "([")
    assert findings[0].check == "stam.verzoeknummer.pattern_invalid"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_verzoeknummer_is_an_error(value: str | None) -> None:
    findings = check_verzoeknummer(value)
    assert findings[0].check == "stam.verzoeknummer.missing"
    assert findings[0].severity == Severity.ERROR


def test_allocator_counts_per_day() -> None:
    allocator = VerzoeknummerAllocator(MemoryCounters(), clock=lambda: dt.date(2026, 6, 2))
    assert [allocator.allocate() for _ in range(3)] == [
        "2026060200001",
        "2026060200002",
        "2026060200003",
    ]
    assert allocator.allocate(dt.date(2026, 6, 3)) == "2026060300001"
    assert allocator.allocate() == "2026060200004"


def test_allocator_is_thread_safe_and_gap_free() -> None:
    allocator = VerzoeknummerAllocator(MemoryCounters(), clock=lambda: dt.date(2026, 1, 1))
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        local = [allocator.allocate() for _ in range(250)]
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2000
    assert sorted(int(r[8:]) for r in results) == list(range(1, 2001))


def test_allocator_refuses_beyond_the_daily_sequence() -> None:
    counters = MemoryCounters()
    day = dt.date(2026, 1, 1)
    allocator = VerzoeknummerAllocator(counters)
    for _ in range(MAX_SEQUENCE):
        counters.next_value("verzoeknummer:20260101")
    with pytest.raises(VerzoeknummerExhaustedError, match="exhausted"):
        allocator.allocate(day)
