"""The proofs read session results without asking pytest again, and ask it for anything else."""

from __future__ import annotations

import itertools

import pytest

from pytest_dso.fixtures.proofs import _value

_made = itertools.count()


@pytest.fixture(scope="session")
def proof_session_result() -> dict[str, int]:
    return {"made": next(_made)}


@pytest.fixture
def proof_test_result() -> dict[str, int]:
    return {"made": next(_made)}


@pytest.fixture(scope="session")
def proof_session_skip() -> None:
    pytest.skip("not available in this run")


def test_a_session_result_is_computed_once_then_read(request: pytest.FixtureRequest) -> None:
    first = _value(request, "proof_session_result")
    assert _value(request, "proof_session_result") is first
    assert request.getfixturevalue("proof_session_result") is first


def test_a_test_scoped_result_is_asked_for(request: pytest.FixtureRequest) -> None:
    assert _value(request, "proof_test_result") is request.getfixturevalue("proof_test_result")


def test_a_skipping_session_fixture_skips_every_time(request: pytest.FixtureRequest) -> None:
    for _attempt in range(2):
        with pytest.raises(pytest.skip.Exception, match="not available"):
            _value(request, "proof_session_skip")
