"""Each test is labelled with the steps of the environment it runs in (PROD 3 on PROD)."""

from __future__ import annotations

from pytest_dso.fixtures.evidence import step_labels_for


def test_a_pre_step_becomes_the_prod_step_with_the_same_proof() -> None:
    assert step_labels_for("prod", ["PRE 2.6"]) == ["PROD 3"]
    assert step_labels_for("prod", ["PRE 3.3", "PROD 5"]) == ["PROD 5"]


def test_a_run_labels_only_steps_of_its_own_process() -> None:
    assert step_labels_for("pre", ["PRE 3.3", "PROD 5"]) == ["PRE 3.3"]
    assert step_labels_for("local", ["PRE 4.1", "PROD 6"]) == ["PRE 4.1"]
    # no PROD step is proved by the CPA lint alone: no PROD label rather than a wrong one
    assert step_labels_for("prod", ["PRE 2.3"]) == []
    assert step_labels_for("pre", ["my own label"]) == ["my own label"]
