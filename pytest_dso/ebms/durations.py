"""xsd:duration values (CPA RetryInterval, PersistDuration) as ``timedelta``."""

from __future__ import annotations

import datetime as dt
import re

_DURATION_RE = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> dt.timedelta:
    """An xsd:duration as a timedelta (a year counts as 365 days, a month as 30).

    Raises ``ValueError`` for anything else.
    """
    value = text.strip()
    match = _DURATION_RE.match(value)
    if not match or value in ("P", "PT", "-P") or value.endswith("T"):
        raise ValueError(f"not an xsd:duration: {value!r}")
    sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
    delta = dt.timedelta(
        days=int(years or 0) * 365 + int(months or 0) * 30 + int(weeks or 0) * 7 + int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -delta if sign else delta


def format_duration(value: dt.timedelta) -> str:
    """A timedelta as an xsd:duration (days, hours, minutes, seconds)."""
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    time += f"{seconds}S" if seconds else ""
    if time:
        text += "T" + time
    return text if text not in ("P", "-P") else "PT0S"
