"""The CPA suite as a user runs it: a faulty CPA in dso.toml gives readable failures."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_dso.ebms.cpa import build_cpa
from pytest_dso.ebms.cpa_build import SHA1, CpaSpec

SUITE = Path(__file__).parents[2] / "suites" / "test_cpa.py"


def test_faulty_cpa_fails_the_matching_checks_without_tracebacks(
    pytester: pytest.Pytester, ebms_clean_spec: CpaSpec
) -> None:
    now = dt.datetime.now(dt.UTC)
    faulty = replace(
        ebms_clean_spec,
        status="proposed",
        signing=True,
        hash_function=SHA1,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=60),
    )
    pytester.path.joinpath("cpa.xml").write_bytes(build_cpa(faulty))
    pytester.path.joinpath("dso.toml").write_text('[ebms]\ncpa = "cpa.xml"\n')
    pytester.path.joinpath("test_cpa.py").write_text(SUITE.read_text())
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local")
    outcomes = result.parseoutcomes()
    result.stdout.fnmatch_lines(
        [
            "*test_cpa_is_agreed_and_currently_valid*",
            "*cpa.validity.status: the CPA status is 'proposed'*",
        ]
    )
    result.stdout.fnmatch_lines(["*cpa.crypto.sha1*SHA-1*"])
    result.stdout.fnmatch_lines(["*how to fix:*"])
    assert "Traceback" not in result.stdout.str()
    assert outcomes.get("failed", 0) >= 2
    assert outcomes.get("passed", 0) >= 4
