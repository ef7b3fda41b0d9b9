"""Latency of one end-to-end run: submit → trigger → ophalen.

Times are wall-clock (aware UTC) because the trigger time may come from elsewhere (the file
time of a drop folder, the ebms-core timestamp). A negative span (clock skew between the
machines) is kept as measured and flagged, never hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """The moments of one run; any may be unknown (``None``)."""

    submitted_at: dt.datetime | None = None
    triggered_at: dt.datetime | None = None
    fetched_at: dt.datetime | None = None

    @staticmethod
    def _span(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
        if start is None or end is None:
            return None
        return (end - start).total_seconds()

    @property
    def submit_to_trigger(self) -> float | None:
        """Seconds from the submission to the trigger."""
        return self._span(self.submitted_at, self.triggered_at)

    @property
    def trigger_to_ophalen(self) -> float | None:
        """Seconds from the trigger to the completed ophalen."""
        return self._span(self.triggered_at, self.fetched_at)

    @property
    def skewed(self) -> bool:
        """True when a span is negative (clocks disagree)."""
        spans = (self.submit_to_trigger, self.trigger_to_ophalen)
        return any(s is not None and s < 0 for s in spans)

    def properties(self) -> dict[str, str]:
        """``record_property`` pairs (seconds with millisecond precision; ``-`` if unknown)."""

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        return {
            "dso_latency_submit_to_trigger_s": fmt(self.submit_to_trigger),
            "dso_latency_trigger_to_ophalen_s": fmt(self.trigger_to_ophalen),
        }

    def describe(self) -> str:
        """One line for reports."""
        props = self.properties()
        text = (
            f"submit→trigger {props['dso_latency_submit_to_trigger_s']} s, "
            f"trigger→ophalen {props['dso_latency_trigger_to_ophalen_s']} s"
        )
        return text + (" (clock skew: a span is negative)" if self.skewed else "")
