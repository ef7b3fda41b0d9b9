"""The ``dso_sim`` and ``dso_sim_faults`` fixtures in a pytest run (``--dso-env=local``)."""

from __future__ import annotations

import pytest


def test_dso_sim_runs_for_the_session_with_its_store_in_the_output_folder(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import os

        from pytest_dso.transport.client import HttpClient


        def test_running(dso_sim, dso_settings):
            assert dso_sim.running
            assert dso_sim.store_path.parent == dso_settings.output_dir / "dso-sim"
            assert dso_sim.api_key not in os.environ.values()  # passed as a value only
            http = HttpClient.for_identity(None, dso_sim.trust_anchors)
            answer = http.get(dso_sim.api_url("indienen") + "/openapi.json")
            assert answer.status == 200


        def test_faults_are_cleared_after_each_test_1(dso_sim, dso_sim_faults):
            dso_sim_faults.http_503(5, scope="api")
            assert dso_sim.faults.active()


        def test_faults_are_cleared_after_each_test_2(dso_sim):
            assert dso_sim.faults.active() == ()
        """
    )
    result = pytester.runpytest("--dso-env=local", "--dso-output", "out", "-p",
                                           "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert (pytester.path / "out" / "dso-sim" / "dso-sim.sqlite").is_file()


def test_dso_sim_is_skipped_outside_local(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_needs_sim(dso_sim):
            pass
        """
    )
    result = pytester.runpytest("--dso-env=pre", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*only with --dso-env=local*"])
