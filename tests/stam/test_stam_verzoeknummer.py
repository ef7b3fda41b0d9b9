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


def test_allocators_with_shares_of_one_day_never_give_the_same_number() -> None:
    day = dt.date(2026, 1, 1)
    # three simulators of one run (one per xdist worker), each with its own store
    shares = [VerzoeknummerAllocator(MemoryCounters(), clock=lambda: day, share=(i, 3))
              for i in range(3)]
    drawn = [[allocator.allocate() for _ in range(4)] for allocator in shares]
    assert drawn[1] == ["2026010100002", "2026010100005", "2026010100008", "2026010100011"]
    every = [n for numbers in drawn for n in numbers]
    assert sorted(int(n[8:]) for n in every) == list(range(1, 13))


@pytest.mark.parametrize("share", [(0, 0), (2, 2), (-1, 3)])
def test_an_impossible_share_is_refused(share: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="0 <= index < count"):
        VerzoeknummerAllocator(MemoryCounters(), share=share)


def test_a_share_ends_where_the_daily_sequence_does() -> None:
    counters = MemoryCounters()
    allocator = VerzoeknummerAllocator(counters, share=(1, 2))
    for _ in range(MAX_SEQUENCE // 2):
        counters.next_value("verzoeknummer:20260101")
    with pytest.raises(VerzoeknummerExhaustedError, match="exhausted"):
        allocator.allocate(dt.date(2026, 1, 1))
