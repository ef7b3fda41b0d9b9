"""Load driver statistics: percentiles, pacing, lost and early outcomes."""

from __future__ import annotations

import threading
import time

import pytest

from pytest_dso.sim.load import LoadRun
from pytest_dso.sim.stats import LatencySummary, percentile


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 99) == 0
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile(values, 101)


def test_latency_summary_in_milliseconds() -> None:
    summary = LatencySummary.of([0.001, 0.002, 0.010])
    assert summary.count == 3
    assert summary.max == pytest.approx(10.0)
    assert summary.p50 == pytest.approx(2.0)


def test_run_paces_submissions_and_counts_outcomes() -> None:
    run: LoadRun

    def submit(index: int) -> list[str]:
        key = f"v{index}"
        if index % 10 != 9:  # every tenth verzoek is never completed: lost
            outcome = index % 5 != 3  # some fail
            threading.Timer(0.01, run.completed, (key, outcome, index == 0)).start()
        return [key]

    run = LoadRun(submit, 20, rate=100)
    started = time.monotonic()
    report = run.run(timeout=0.8)  # the two lost ones are waited for until then
    assert time.monotonic() - started >= 0.19  # 20 at 100/s take at least 0.19 s
    assert report.submitted == 20
    assert report.lost == 2
    assert report.failed == 4
    assert report.delivered == 14
    assert report.retried == 1
    assert 0 < report.latency.p50 < 500
    assert "lost 2" in report.render()
    assert report.to_json()["lost"] == 2


def test_outcome_arriving_before_the_submit_returns_is_counted() -> None:
    run: LoadRun

    def submit(index: int) -> list[str]:
        run.completed(f"k{index}")  # the DKA was faster than the HTTP response
        return [f"k{index}"]

    run = LoadRun(submit, 5, rate=1000)
    report = run.run(timeout=2)
    assert report.delivered == 5
    assert report.lost == 0


def test_submission_errors_are_reported_not_raised() -> None:
    def submit(index: int) -> list[str]:
        raise ConnectionError("refused")

    report = LoadRun(submit, 3, rate=1000).run(timeout=1)
    assert report.failed == 3
    assert report.errors
    assert "refused" in report.errors[0]
