"""Verzoeknummers: format, validation and a thread-safe allocator.

The format used here is **inferred [I]**, not specified in any public document: 13 digits,
``YYYYMMDD`` (the day of submission) followed by a 5-digit daily sequence, for example
``2022070500133``. It matches every real verzoeknummer seen in public sources, but DSO-LV may
change it. Validation therefore uses a configurable pattern (``[stam] verzoeknummer_pattern``
in ``dso.toml``) and a mismatch is a **warning**, never a failure.

The legacy OLO number is a separate field (``oloVerzoeknummer``) and suffixes such as ``_BG_1``
are vendor-internal; neither is a verzoeknummer.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from typing import Protocol

from pytest_dso.findings import Finding, error, warning

#: Default validation pattern; overridable by ``[stam] verzoeknummer_pattern``.
DEFAULT_PATTERN = r"^\d{13}$"
#: Digits of the daily sequence after the ``YYYYMMDD`` date.
SEQUENCE_DIGITS = 5
#: The highest sequence number a day can have.
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
#: Counter-name prefix used in the store (one counter per day).
COUNTER_PREFIX = "verzoeknummer:"


class VerzoeknummerExhaustedError(RuntimeError):
    """All daily sequence numbers of a day are used."""


class CounterStore(Protocol):
    """Something that hands out increasing integers per counter name, atomically.

    :class:`pytest_dso.sim.store.Store` implements it (persisted); :class:`MemoryCounters`
    is the in-memory variant.
    """

    def next_value(self, name: str) -> int:
        """Increment counter ``name`` (starting at 0) and return the new value (first: 1)."""
        ...


class MemoryCounters:
    """Thread-safe in-memory counters (lost on exit); for scripts and unit tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def next_value(self, name: str) -> int:
        """Increment counter ``name`` and return the new value (first call: 1)."""
        with self._lock:
            value = self._values.get(name, 0) + 1
            self._values[name] = value
            return value


def format_verzoeknummer(day: dt.date, sequence: int) -> str:
    """``YYYYMMDD`` + zero-padded 5-digit ``sequence`` (1..99999)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"daily sequence {sequence} is outside 1..{MAX_SEQUENCE}")
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def parse_verzoeknummer(value: str) -> tuple[dt.date, int] | None:
    """The (day, sequence) of a verzoeknummer in the inferred form, or ``None``."""
    if len(value) != 8 + SEQUENCE_DIGITS or not value.isascii() or not value.isdigit():
        return None
    try:
        day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None
    return day, int(value[8:])


def check_verzoeknummer(
    value: str | None, pattern: str = DEFAULT_PATTERN, *, where: str = ""
) -> list[Finding]:
    """Check a verzoeknummer: ERROR when absent, WARNING when it does not match ``pattern``
    or its first eight digits are not a date. Never an error for the format alone."""
    if value is None or not value.strip():
        return [
            error(
                "stam.verzoeknummer.missing",
                "the verzoeknummer is empty or missing",
                "every verzoek and verzoeknotificatie must carry the DSO verzoeknummer",
                where,
            )
        ]
    findings: list[Finding] = []
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        return [
            warning(
                "stam.verzoeknummer.pattern_invalid",
                f"the configured verzoeknummer pattern {pattern!r} is not a valid regular "
                f"expression ({exc}); the format was not checked",
                "fix [stam] verzoeknummer_pattern in dso.toml",
                where,
            )
        ]
    if not regex.search(value):
        findings.append(
            warning(
                "stam.verzoeknummer.format",
                f"verzoeknummer {value!r} does not match the expected pattern {pattern!r}",
                "the 13-digit YYYYMMDD+sequence form is inferred from real examples, not "
                "specified; if DSO-LV uses another form, set [stam] verzoeknummer_pattern",
                where,
                verzoeknummer=value,
            )
        )
    elif pattern == DEFAULT_PATTERN and parse_verzoeknummer(value) is None:
        findings.append(
            warning(
                "stam.verzoeknummer.date",
                f"verzoeknummer {value!r} has 13 digits but its first eight are not a date "
                "(YYYYMMDD)",
                "check where the verzoeknummer was taken from; real ones start with the day "
                "of submission",
                where,
                verzoeknummer=value,
            )
        )
    return findings


def _today_amsterdam() -> dt.date:
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    except Exception:  # pragma: no cover - no tz database on the host
        return dt.datetime.now(dt.UTC).date()


class VerzoeknummerAllocator:
    """Hands out verzoeknummers ``YYYYMMDD`` + daily sequence, thread-safe and gap-free
    within one counter store (persisted when the store is the simulator's SQLite store).

    ``share`` ``(index, count)`` gives this allocator every ``count``-th number of the day,
    starting at ``index + 1``: allocators with the shares ``(0, n)`` … ``(n - 1, n)`` (one per
    simulator of a run) never hand out the same verzoeknummer."""

    def __init__(
        self,
        counters: CounterStore,
        *,
        clock: Callable[[], dt.date] = _today_amsterdam,
        share: tuple[int, int] = (0, 1),
    ) -> None:
        index, count = share
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"share {share!r}: give (index, count) with 0 <= index < count")
        self._counters = counters
        self._clock = clock
        self._share = share
        self._lock = threading.Lock()

    def allocate(self, day: dt.date | None = None) -> str:
        """The next verzoeknummer for ``day`` (default: today in Europe/Amsterdam)."""
        when = day or self._clock()
        index, count = self._share
        with self._lock:
            drawn = self._counters.next_value(f"{COUNTER_PREFIX}{when:%Y%m%d}")
        sequence = (drawn - 1) * count + index + 1
        if sequence > MAX_SEQUENCE:
            raise VerzoeknummerExhaustedError(
                f"more than {MAX_SEQUENCE} verzoeknummers allocated for {when:%Y-%m-%d}; "
                "the 5-digit daily sequence is exhausted"
            )
        return format_verzoeknummer(when, sequence)
