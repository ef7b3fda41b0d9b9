"""The CI health-check examples are valid and do what the docs say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_dso.dsofile import load_dso_toml

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
COMMAND = "pytest --dso-env=prod -m health --junitxml=reports/junit.xml"


def test_github_actions_runs_nightly_and_keeps_the_report() -> None:
    workflow = yaml.safe_load((CI / "github-actions-health.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as a boolean
    assert triggers["schedule"][0]["cron"] == "17 3 * * *"
    steps = workflow["jobs"]["health"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert COMMAND in runs
    check = next(s for s in steps if s.get("run") == COMMAND)
    assert set(check["env"]) == {"DSO_PROD_KEY_PASSPHRASE", "DSO_PROD_API_KEY"}
    assert all("${{ secrets." in v for v in check["env"].values())
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "reports/"
    cleanup = next(s for s in steps if s.get("run") == "rm -rf secrets")
    assert cleanup["if"] == "always()"


def test_gitlab_ci_runs_on_schedule_and_keeps_the_report() -> None:
    job = yaml.safe_load((CI / "gitlab-ci-health.yml").read_text())["dso-prod-health"]
    assert COMMAND in job["script"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["paths"] == ["reports/"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert "rm -rf secrets" in job["after_script"]


def test_the_ci_dso_toml_names_secrets_but_holds_none() -> None:
    file = load_dso_toml(CI / "dso.toml")
    assert file.env == "prod"
    assert file.certificate is not None
    assert file.certificate.passphrase_env == "DSO_PROD_KEY_PASSPHRASE"
    assert file.api.api_key_env == "DSO_PROD_API_KEY"
    assert file.certificate.cert == CI / "secrets" / "adapter.crt.pem"


@pytest.mark.parametrize("name", ["github-actions-health.yml", "gitlab-ci-health.yml"])
def test_the_same_variable_names_as_the_dso_toml(name: str) -> None:
    text = (CI / name).read_text()
    for variable in ("DSO_PROD_KEY_PASSPHRASE", "DSO_PROD_API_KEY"):
        assert variable in text
