"""A load driver: submit N verzoeken at a steady rate and measure what reaches the DKA.

:class:`LoadRun` is independent of HTTP: it calls ``submit(i)`` (which returns the keys of what
that submission must produce, normally verzoeknummers) on a small worker pool at ``rate`` per
second, and whoever observes an outcome calls :meth:`LoadRun.completed` (the simulator's
delivery events, or a DKA that also fetched the verzoek). The report counts delivered, acked,
retried, failed and lost keys and gives latency percentiles from submission to completion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pytest_dso.sim.stats import Counter, LatencySummary, LoadReport

Submit = Callable[[int], Sequence[str]]
Progress = Callable[["LoadProgress"], None]


@dataclass(frozen=True)
class LoadProgress:
    """A snapshot while the run is going (for a progress display)."""

    requested: int
    submitted: int
    completed: int
    failed: int
    elapsed: float


class LoadRun:
    """One load run. Thread-safe; each instance is used once."""

    def __init__(self, submit: Submit, count: int, rate: float, *, workers: int = 8) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if rate <= 0:
            raise ValueError("rate must be positive (verzoeken per second)")
        self._submit = submit
        self.count = count
        self.rate = rate
        self._workers = max(1, workers)
        self._lock = threading.Condition()
        self._started: dict[str, float] = {}
        self._early: dict[str, tuple[float, bool, bool]] = {}
        self._latencies: list[float] = []
        self._done: set[str] = set()
        self._failed: set[str] = set()
        self._counter = Counter()
        self._errors: list[str] = []

    # -- called by observers --------------------------------------------------------------
    def completed(self, key: str, ok: bool = True, retried: bool = False) -> None:
        """Record the outcome for ``key`` (first call counts; later ones are ignored)."""
        now = time.monotonic()
        with self._lock:
            if key in self._done:
                return
            start = self._started.get(key)
            if start is None:
                # The outcome overtook the submit response; settle it when the key arrives.
                self._early.setdefault(key, (now, ok, retried))
                return
            self._settle(key, start, now, ok, retried)

    def _settle(self, key: str, start: float, now: float, ok: bool, retried: bool) -> None:
        self._done.add(key)
        if ok:
            self._counter.add("delivered")
            self._latencies.append(now - start)
        else:
            self._counter.add("failed")
            self._failed.add(key)
        if retried:
            self._counter.add("retried")
        self._lock.notify_all()

    # -- running ----------------------------------------------------------------------------
    def _one(self, index: int) -> None:
        started = time.monotonic()
        try:
            keys = list(self._submit(index))
        except Exception as exc:  # reported, never raised: one bad submission is data
            with self._lock:
                self._counter.add("submit_errors")
                if len(self._errors) < 50:
                    self._errors.append(f"submission {index}: {type(exc).__name__}: {exc}")
            return
        with self._lock:
            self._counter.add("submitted")
            for key in keys:
                self._started[key] = started
                early = self._early.pop(key, None)
                if early is not None:
                    self._settle(key, started, *early)

    def run(self, timeout: float, progress: Progress | None = None,
            progress_interval: float = 0.5) -> LoadReport:
        """Submit everything at the target rate, then wait up to ``timeout`` seconds (total)
        for the outcomes."""
        begin = time.monotonic()
        deadline = begin + timeout
        last_progress = begin
        with ThreadPoolExecutor(self._workers, thread_name_prefix="dso-load") as pool:
            for index in range(self.count):
                due = begin + index / self.rate
                while True:
                    now = time.monotonic()
                    if progress and now - last_progress >= progress_interval:
                        progress(self.progress(now - begin))
                        last_progress = now
                    if now >= due or now >= deadline:
                        break
                    time.sleep(min(due - now, 0.05))
                if time.monotonic() >= deadline:
                    break
                pool.submit(self._one, index)
        with self._lock:
            while len(self._done) < len(self._started):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, progress_interval))
                if progress:
                    self._lock.release()
                    try:
                        progress(self.progress(time.monotonic() - begin))
                    finally:
                        self._lock.acquire()
        duration = time.monotonic() - begin
        return self.report(duration)

    def unsettled(self) -> tuple[frozenset[str], frozenset[str]]:
        """The verzoeknummers of this run that failed, and those without an outcome yet."""
        with self._lock:
            return frozenset(self._failed), frozenset(self._started.keys() - self._done)

    def progress(self, elapsed: float) -> LoadProgress:
        """The current counts."""
        with self._lock:
            return LoadProgress(self.count, self._counter.get("submitted"),
                                self._counter.get("delivered"), self._counter.get("failed"),
                                elapsed)

    def report(self, duration: float) -> LoadReport:
        """The report for what happened so far."""
        with self._lock:
            delivered = self._counter.get("delivered")
            failed = self._counter.get("failed")
            expected = len(self._started)
            return LoadReport(
                requested=self.count,
                submitted=self._counter.get("submitted"),
                delivered=delivered,
                acked=delivered,
                retried=self._counter.get("retried"),
                failed=failed + self._counter.get("submit_errors"),
                lost=max(0, expected - delivered - failed),
                duration=duration,
                rate_target=self.rate,
                latency=LatencySummary.of(self._latencies),
                errors=tuple(self._errors),
            )
