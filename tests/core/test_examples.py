"""The runnable how-to examples in examples/ keep working."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_own_tests_example_runs_against_the_local_default(pytester: pytest.Pytester) -> None:
    shutil.copytree(EXAMPLES / "own-tests", pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
