"""``dso-init``: a commented dso.toml and a scheduled CI file for a new folder, never written
over an existing file, and the examples in examples/ reproducible with it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pytest_dso.cli.init import (
    EXAMPLE_BEVOEGD_GEZAG,
    EXAMPLE_LEVERANCIER,
    main,
    render_ci,
    render_dso_toml,
)
from pytest_dso.dsofile import load_dso_toml

EXAMPLES = Path(__file__).parents[2] / "examples"
LEVERANCIER = "00000003273229750000"
GEMEENTE = "00000001001589623000:gemeente:Gemeente Voorbeeldstad"
WATERSCHAP = "00000001823288444000:waterschap:Waterschap \"De Dijk\""


def test_the_examples_are_what_dso_init_writes() -> None:
    gezag = [EXAMPLE_BEVOEGD_GEZAG]
    for env in ("pre", "prod"):
        text = (EXAMPLES / env / "dso.toml").read_text(encoding="utf-8")
        assert text == render_dso_toml(env, EXAMPLE_LEVERANCIER, gezag), env
    ci = EXAMPLES / "ci"
    assert (ci / "dso.toml").read_text(encoding="utf-8") == render_dso_toml(
        "prod", EXAMPLE_LEVERANCIER, gezag
    )
    for kind, name in (("github", "github-actions-health.yml"), ("gitlab", "gitlab-ci-health.yml")):
        assert (ci / name).read_text(encoding="utf-8") == render_ci("prod", kind)[1]


def test_writes_a_dso_toml_with_the_given_oins_and_a_github_workflow(tmp_path: Path) -> None:
    code = main([
        "--env", "pre", "--dir", str(tmp_path), "--leverancier", LEVERANCIER,
        "--leverancier-name", "VTH B.V.", "--bevoegd-gezag", GEMEENTE,
        "--bevoegd-gezag", WATERSCHAP, "--ticket", "DSO-4711",
    ])
    assert code == 0
    parsed = load_dso_toml(tmp_path / "dso.toml")
    assert parsed.env == "pre"
    assert parsed.ticket == "DSO-4711"
    assert parsed.leverancier is not None
    assert (parsed.leverancier.oin, parsed.leverancier.name) == (LEVERANCIER, "VTH B.V.")
    assert [(bg.oin, bg.type, bg.name) for bg in parsed.bevoegde_gezagen] == [
        ("00000001001589623000", "gemeente", "Gemeente Voorbeeldstad"),
        ("00000001823288444000", "waterschap", 'Waterschap "De Dijk"'),
    ]
    assert parsed.certificate is not None
    assert parsed.certificate.passphrase_env == "DSO_PRE_KEY_PASSPHRASE"
    workflow = yaml.safe_load((tmp_path / ".github/workflows/dso-pre-health.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"] == "17 2 * * *"
    runs = [step.get("run", "") for step in workflow["jobs"]["health"]["steps"]]
    assert 'python -m pip install "pytest-dso"' in runs
    assert "pytest --dso-env=pre -m health --junitxml=reports/junit.xml" in runs
    upload = workflow["jobs"]["health"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact")
    assert upload["with"]["path"] == "reports/"
    assert upload["if"] == "always()"


def test_the_gitlab_job_installs_runs_and_keeps_the_results(tmp_path: Path) -> None:
    assert main(["--env", "prod", "--dir", str(tmp_path), "--ci", "gitlab",
                 "--requirement", "pytest-dso==0.1.0"]) == 0
    job = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())["dso-prod-health"]
    assert 'python -m pip install "pytest-dso==0.1.0"' in job["before_script"]
    assert "pytest --dso-env=prod -m health --junitxml=reports/junit.xml" in job["script"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert job["artifacts"] == {
        "when": "always", "expire_in": "30 days", "paths": ["reports/"],
        "reports": {"junit": "reports/junit.xml"},
    }


def test_an_existing_file_is_never_overwritten_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dso.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not written, these files exist already" in err
    assert "dso.toml" in err
    assert (tmp_path / "dso.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / ".github").exists()  # all or nothing
    assert main(["--dir", str(tmp_path), "--force"]) == 0
    assert load_dso_toml(tmp_path / "dso.toml").env == "pre"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leverancier", "123"], "--leverancier '123': an OIN has 20 characters"),
        (["--bevoegd-gezag", "00000001001589623000:stad:X"], "type 'stad' is not one of"),
        (["--bevoegd-gezag", "00000001001589623000"], "give OIN:TYPE:NAME"),
    ],
)
def test_bad_values_are_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_folder_after_dso_init_fails_fast_naming_the_missing_files(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSO_SUITES")
    done = subprocess.run(
        [sys.executable, "-m", "pytest_dso.cli.init", "--env", "pre", "--leverancier",
         LEVERANCIER, "--bevoegd-gezag", GEMEENTE],
        cwd=pytester.path, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote dso.toml" in done.stdout
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=pre")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*[[]certificate[]] cert: file not found: *secrets/adapter.crt.pem",
        "*[[]certificate[]] key: file not found: *secrets/adapter.key.pem",
        "*[[]ebms[]] cpa: file not found: *cpa/cpa-pre-stam.xml",
    ])
    assert "collected" not in result.stdout.str()


def test_every_commented_key_in_the_written_dso_toml_is_a_valid_setting(tmp_path: Path) -> None:
    """Uncommenting any ``# key = value`` (or ``# [section]``) line that dso-init writes gives
    a dso.toml that loads: the template never suggests a key or value the loader refuses."""
    text = render_dso_toml("pre", EXAMPLE_LEVERANCIER, [EXAMPLE_BEVOEGD_GEZAG])
    uncommented = [
        line[2:] if re.match(r"# (\[[a-z_.]+\]|[a-z_]+ = )", line) else line
        for line in text.splitlines()
    ]
    assert uncommented != text.splitlines()
    path = tmp_path / "dso.toml"
    path.write_text("\n".join(uncommented) + "\n", encoding="utf-8")
    parsed = load_dso_toml(path)
    assert parsed.network.tls_guidelines == "2025-05"
    assert parsed.network.tls_scan is True
