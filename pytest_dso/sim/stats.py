"""Statistics for load runs: counts per outcome and latency percentiles."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0..100, nearest-rank) of already sorted values; 0 when empty."""
    if not sorted_values:
        return 0.0
    if not 0 <= p <= 100:
        raise ValueError("percentile must be between 0 and 100")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency percentiles in milliseconds."""

    count: int = 0
    p50: float = 0.0
    p90: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    mean: float = 0.0

    @classmethod
    def of(cls, seconds: Sequence[float]) -> LatencySummary:
        """Summarise latencies given in seconds."""
        values = sorted(s * 1000.0 for s in seconds)
        if not values:
            return cls()
        return cls(
            count=len(values),
            p50=percentile(values, 50),
            p90=percentile(values, 90),
            p99=percentile(values, 99),
            max=values[-1],
            mean=sum(values) / len(values),
        )


@dataclass(frozen=True)
class LoadReport:
    """The result of a load run."""

    requested: int
    submitted: int
    delivered: int
    acked: int
    retried: int
    failed: int
    lost: int
    duration: float
    rate_target: float
    latency: LatencySummary = field(default_factory=LatencySummary)
    errors: tuple[str, ...] = ()
    #: Why the verzoeknotificaties not final at the end are still open (see ``lost``).
    pending: tuple[str, ...] = ()
    #: Why the failed or expired verzoeknotificaties failed (see ``failed``).
    failures: tuple[str, ...] = ()

    @property
    def throughput(self) -> float:
        """Delivered verzoeken per second over the run."""
        return self.delivered / self.duration if self.duration > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (``dso-sim load --json``)."""
        data = asdict(self)
        data["throughput"] = round(self.throughput, 1)
        data["errors"] = list(self.errors[:20])
        data["pending"] = list(self.pending[:20])
        data["failures"] = list(self.failures[:20])
        return data

    def render(self) -> str:
        """A short human-readable summary."""
        lat = self.latency
        lines = [
            f"verzoeken: {self.requested} requested, {self.submitted} submitted "
            f"at target {self.rate_target:g}/s in {self.duration:.1f} s",
            f"delivered {self.delivered}, acked {self.acked}, retried {self.retried}, "
            f"failed {self.failed}, lost {self.lost}",
            f"throughput {self.throughput:.1f}/s; latency ms p50 {lat.p50:.1f} "
            f"p90 {lat.p90:.1f} p99 {lat.p99:.1f} max {lat.max:.1f}",
        ]
        lines += [f"error: {e}" for e in self.errors[:5]]
        lines += [f"failed: {f}" for f in self.failures[:5]]
        lines += [f"pending: {p}" for p in self.pending[:5]]
        return "\n".join(lines)


class Counter:
    """Thread-safe named counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        """Increase ``name`` by ``amount``."""
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + amount

    def get(self, name: str) -> int:
        """The current value of ``name``."""
        with self._lock:
            return self._counts.get(name, 0)

    def snapshot(self) -> dict[str, int]:
        """All counters."""
        with self._lock:
            return dict(self._counts)
