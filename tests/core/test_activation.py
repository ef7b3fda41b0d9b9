"""pytest-dso as an installed tool: inert until asked for, the packaged suites collected when it
is, results never lost to a run that runs no test, and paths that follow the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

UNRELATED = "def test_x():\n    assert 1 + 1 == 2\n"
USES_SETTINGS = "def test_env(dso_settings):\n    print('ENV=' + dso_settings.env)\n"


@pytest.fixture
def plain(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A folder with no pytest-dso configuration at all (not even DSO_SUITES)."""
    monkeypatch.delenv("DSO_SUITES")
    return pytester


def _collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


# --- inert until asked ------------------------------------------------------------------------


def test_an_unrelated_project_gets_no_output_and_no_files(plain: pytest.Pytester) -> None:
    plain.makepyfile(test_x=UNRELATED)
    result = plain.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    dso_lines = [line for line in result.outlines if "dso" in line.lower()]
    assert [line for line in dso_lines if not line.startswith("plugins:")] == []
    pytesters_own = ("runpytest-", "stdout", "stderr")
    made = sorted(p.name for p in plain.path.iterdir() if not p.name.startswith(pytesters_own))
    assert made == ["test_x.py"]


#: What an unrelated run must not load: the engine's working parts and their libraries (the
#: configuration, the fixtures' definitions and the hook specs are all it needs).
ENGINE_PARTS = ("cryptography", "lxml", "xmlschema", "pytest_dso.sim", "pytest_dso.ebms",
                "pytest_dso.e2e.runs", "pytest_dso.e2e.flow", "pytest_dso.dso", "pytest_dso.stam",
                "pytest_dso.network", "pytest_dso.transport", "pytest_dso.pkio.testpki",
                "pytest_dso.pkio.identity", "pytest_dso.triggers.registry")


def test_an_unrelated_project_does_not_load_the_engine(plain: pytest.Pytester) -> None:
    plain.makepyfile(test_x=UNRELATED)
    plain.makeconftest(
        "import sys\n"
        "def pytest_terminal_summary(terminalreporter):\n"
        "    terminalreporter.write_line('LOADED ' + ' '.join(sorted(sys.modules)))\n"
    )
    # the dev extras' plugins (schemathesis, hypothesis) load libraries of their own
    result = plain.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest",
        "-p", "no:anyio")
    result.assert_outcomes(passed=1)
    loaded = next(line for line in result.outlines if line.startswith("LOADED ")).split()[1:]
    assert "pytest_dso.plugin" in loaded  # the plugin is there, registered
    assert [m for m in loaded
            if any(m == part or m.startswith(part + ".") for part in ENGINE_PARTS)] == []


def test_an_unrelated_project_keeps_its_own_reports_folder(plain: pytest.Pytester) -> None:
    plain.makepyfile(test_x=UNRELATED)
    own = plain.path / "reports" / "allure-results" / "mine.txt"
    own.parent.mkdir(parents=True)
    own.write_text("kept", encoding="utf-8")
    plain.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert own.read_text(encoding="utf-8") == "kept"
    assert [p.name for p in own.parent.iterdir()] == ["mine.txt"]


def test_a_fixture_used_without_configuration_says_how_to_turn_it_on(
    plain: pytest.Pytester,
) -> None:
    plain.makepyfile(test_env=USES_SETTINGS)
    result = plain.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*pytest-dso is not active in this run*--dso-env=local*DSO_ENV=pre*dso.toml in*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert not (plain.path / "reports").exists()


@pytest.mark.parametrize(
    ("how", "source"),
    [
        ("option", "local (from option)"),
        ("env", "local (from env DSO_ENV)"),
        ("dso.toml", "local (from dso.toml)"),
        ("ini", "local (from ini)"),
    ],
)
def test_it_is_switched_on_by_an_option_a_variable_a_dso_toml_or_an_ini_key(
    plain: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str, source: str
) -> None:
    plain.makepyfile(test_env=USES_SETTINGS)
    args = ["-p", "no:cacheprovider", "-s", "test_env.py"]
    if how == "option":
        args.append("--dso-env=local")
    elif how == "env":
        monkeypatch.setenv("DSO_ENV", "local")
    elif how == "dso.toml":
        (plain.path / "dso.toml").write_text('[dso]\nenv = "local"\n', encoding="utf-8")
    else:
        plain.makeini("[pytest]\ndso_env = local\n")
    result = plain.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"dso env: {source}", "*ENV=local*"])


# --- the packaged suites ----------------------------------------------------------------------


def test_an_empty_folder_collects_the_packaged_suites(plain: pytest.Pytester) -> None:
    result = plain.runpytest("-p", "no:cacheprovider", "--dso-env=local", "--co", "-q")
    assert result.ret == pytest.ExitCode.OK
    names = {line.split("::")[0].rsplit("/", 1)[-1] for line in _collected(result)}
    assert {"test_pkio.py", "test_cpa.py", "test_tls.py", "test_e2e.py"} <= names


def test_own_tests_run_next_to_the_suites_or_alone(plain: pytest.Pytester) -> None:
    plain.makepyfile(test_mine=UNRELATED)
    base = ("-p", "no:cacheprovider", "--dso-env=local", "--co", "-q")
    both = _collected(plain.runpytest(*base))
    assert "test_mine.py::test_x" in both
    assert any("test_pkio.py::" in line for line in both)
    picked = _collected(plain.runpytest(*base, "--dso-suites=pkio,cpa"))
    files = {line.split("::")[0].rsplit("/", 1)[-1] for line in picked}
    assert files == {"test_mine.py", "test_pkio.py", "test_cpa.py"}
    alone = _collected(plain.runpytest(*base, "--dso-suites=none"))
    assert alone == ["test_mine.py::test_x"]
    named = _collected(plain.runpytest(*base, "test_mine.py"))
    assert named == ["test_mine.py::test_x"]


def test_the_evidence_folders_are_not_collected(plain: pytest.Pytester) -> None:
    """The previous run's results (thousands of files for many tenants) are not walked; a
    test file in them would not run. Named explicitly, or with pytest-dso off, it does."""
    plain.makepyfile(test_mine=UNRELATED)
    for folder, name in (("reports/allure-results", "test_left"), ("elsewhere", "test_away")):
        (plain.path / folder).mkdir(parents=True)
        (plain.path / folder / f"{name}.py").write_text(UNRELATED, encoding="utf-8")
    left, away, mine = ("reports/allure-results/test_left.py::test_x",
                        "elsewhere/test_away.py::test_x", "test_mine.py::test_x")
    base = ("-p", "no:cacheprovider", "--co", "-q", "--dso-suites=none")
    assert _collected(plain.runpytest(*base, "--dso-env=local")) == [away, mine]
    moved = _collected(plain.runpytest(*base, "--dso-env=local", "--dso-output=elsewhere"))
    assert moved == [left, mine]
    assert _collected(plain.runpytest(*base, "--dso-env=local", "reports")) == [left]
    assert _collected(plain.runpytest(*base, "--dso-env=local", ".")) == [away, mine]
    here = _collected(plain.runpytest(*base, "--dso-env=local", "--dso-output=."))
    assert here == [away, left, mine]
    assert _collected(plain.runpytest("-p", "no:cacheprovider", "--co", "-q")) == [
        away, left, mine]


def test_an_unknown_suite_is_a_usage_error_listing_the_suites(plain: pytest.Pytester) -> None:
    result = plain.runpytest("-p", "no:cacheprovider", "--dso-suites=pkoi")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dso-suites: pkoi cannot be used here*pkio*tls*"])


# --- results are sacred -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--fixtures"],
        ["--markers"],
        ["--collect-only"],
        ["--help"],
        ["-k", "no_such_test"],
        ["empty_folder"],
    ],
    ids=["fixtures", "markers", "collect-only", "help", "deselected", "nothing-collected"],
)
def test_earlier_results_survive_a_run_that_runs_no_test(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    pytester.makepyfile(test_x=UNRELATED)
    (pytester.path / "empty_folder").mkdir()
    earlier = pytester.path / "reports" / "allure-results" / "earlier-result.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}", encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local", *args)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    assert sorted(p.name for p in earlier.parent.iterdir()) == ["earlier-result.json"]


@pytest.mark.parametrize("option", ["--fixtures", "--fixtures-per-test", "--markers",
                                    "--collect-only"])
def test_a_listing_run_makes_no_folder(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_x=UNRELATED)
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local", option)
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / "reports").exists()


def test_a_run_that_runs_tests_starts_the_results_afresh(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x=UNRELATED)
    earlier = pytester.path / "reports" / "allure-results" / "earlier-result.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}", encoding="utf-8")
    pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local").assert_outcomes(
        passed=1
    )
    names = [p.name for p in earlier.parent.iterdir()]
    assert "earlier-result.json" not in names
    assert any(n.endswith("-result.json") for n in names)


# --- paths follow the configuration -----------------------------------------------------------


def _project_with_subfolder(pytester: pytest.Pytester) -> Path:
    pytester.makeini("[pytest]\n")
    sub = pytester.path / "sub"
    sub.mkdir()
    (sub / "test_x.py").write_text(UNRELATED, encoding="utf-8")
    return sub


def test_dso_toml_paths_are_relative_to_the_file_from_a_subfolder(
    plain: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = _project_with_subfolder(plain)
    (plain.path / "dso.toml").write_text('[dso]\noutput = "out"\n', encoding="utf-8")
    monkeypatch.chdir(sub)
    result = plain.runpytest("-p", "no:cacheprovider", "--dso-suites=none")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"dso config: {plain.path / 'dso.toml'} (from default: *)"])
    assert (plain.path / "out" / "allure-results").is_dir()
    assert not (sub / "out").exists()
    assert not (sub / "reports").exists()


def test_ini_paths_and_the_default_are_relative_to_the_rootdir(
    plain: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = _project_with_subfolder(plain)
    monkeypatch.chdir(sub)
    plain.makeini("[pytest]\ndso_output = results\n")
    plain.runpytest("-p", "no:cacheprovider", "--dso-suites=none").assert_outcomes(
        passed=1
    )
    assert (plain.path / "results" / "allure-results").is_dir()
    plain.makeini("[pytest]\n")
    plain.runpytest(
        "-p", "no:cacheprovider", "--dso-env=local", "--dso-suites=none"
    ).assert_outcomes(passed=1)
    assert (plain.path / "reports" / "allure-results").is_dir()
    assert not (sub / "reports").exists()


def test_dso_config_with_a_space_keeps_the_rootdir(plain: pytest.Pytester) -> None:
    # A config folder with its own ini and tests: pytest must not take it for the rootdir.
    plain.makeini("[pytest]\n")
    plain.makepyfile(test_here=UNRELATED)
    conf = plain.path / "conf"
    conf.mkdir()
    (conf / "pytest.ini").write_text("[pytest]\naddopts = -k wrong\n", encoding="utf-8")
    (conf / "dso.toml").write_text('[dso]\nticket = "T-1"\n', encoding="utf-8")
    result = plain.runpytest(
        "-p", "no:cacheprovider", "--dso-suites", "none", "--dso-config", "conf/dso.toml"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["dso ticket: T-1 (from dso.toml)", f"rootdir: {plain.path}"])


# --- PRE and PROD fail fast -------------------------------------------------------------------


@pytest.mark.parametrize("env", ["pre", "prod"])
def test_remote_run_without_configuration_stops_before_any_test(
    plain: pytest.Pytester, env: str
) -> None:
    result = plain.runpytest("-p", "no:cacheprovider", f"--dso-env={env}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"*--dso-env={env} needs more in dso.toml before the suites can run; missing:",
            "*[[]certificate[]] (no dso.toml found): your PKIoverheid certificate*",
            "*[[]ebms[]] cpa (no dso.toml found)*",
            "*[[][[]bevoegd_gezag[]][]] (no dso.toml found)*",
            f"*examples/{env}/dso.toml*dso-init --env {env}*",
        ]
    )
    assert "collected" not in result.stdout.str()
    assert "Traceback" not in result.stderr.str()
    assert not (plain.path / "reports").exists()


def test_remote_run_names_configured_files_that_are_missing(plain: pytest.Pytester) -> None:
    (plain.path / "dso.toml").write_text(
        '[certificate]\ncert = "c.pem"\nkey = "k.pem"\n[ebms]\ncpa = "cpa.xml"\n'
        '[[bevoegd_gezag]]\noin = "00000001002220647000"\nname = "Gemeente X"\n'
        'type = "gemeente"\n',
        encoding="utf-8",
    )
    result = plain.runpytest("-p", "no:cacheprovider", "--dso-env=pre")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*[[]certificate[]] cert: file not found: *c.pem",
            "*[[]certificate[]] key: file not found: *k.pem",
            "*[[]ebms[]] cpa: file not found: *cpa.xml",
        ]
    )
    assert "bevoegd_gezag" not in result.stderr.str()
