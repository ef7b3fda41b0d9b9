"""Negative ebMS conformance: the MSH refuses what Digikoppeling forbids, with the right error.

Table-driven over the matrix in :mod:`pytest_dso.ebms.conformance` (reference §11): bad
SOAPAction, unknown CPA, wrong parties, unknown Service/Action, expired TimeToLive, header
blocks contradicting the CPA, MessageOrder, unknown cid, hostile XML, duplicates, status.
These send deliberately broken messages, so they run only against the local simulator side
and are skipped on PRE and PROD.
"""

from __future__ import annotations

import pytest

from pytest_dso.ebms.conformance import (
    MATRIX,
    ConformanceCase,
    ConformanceTarget,
    not_applicable,
    run_case_recorded,
)
from pytest_dso.evidence.allure import Evidence
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.local_only]


@pytest.mark.parametrize("case", MATRIX, ids=[c.case_id for c in MATRIX])
def test_msh_answers_as_the_matrix_says(
    case: ConformanceCase, dso_conformance_target: ConformanceTarget, dso_evidence: Evidence
) -> None:
    """Each row: send the spoiled message, expect the SOAP Fault, MessageError (code and
    location), Acknowledgment, Pong or StatusResponse the matrix names. Each exchange is a
    report step with both envelopes, the ebMS ids, timings and the connection's TLS facts."""
    reason = not_applicable(case, dso_conformance_target)
    if reason is not None:
        pytest.skip(f"{case.case_id}: {reason}")
    run = run_case_recorded(case, dso_conformance_target)
    dso_evidence.attach_conformance(run)
    expect_clean(run.findings, str(case))
