"""The dso option group: resolution order, sources in the header, and clear usage errors."""

from __future__ import annotations

import pytest

PRINT_SETTINGS = """
def test_show(dso_settings):
    print("ENV=" + dso_settings.env, "TICKET=" + str(dso_settings.ticket),
          "TENANTS=" + ",".join(dso_settings.tenant_filter),
          "WRITES=" + str(dso_settings.writes_allowed()))
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_show=PRINT_SETTINGS)
    return pytester


def test_defaults_are_local_and_shown_with_their_source(project: pytest.Pytester) -> None:
    result = project.runpytest("-s")
    result.stdout.fnmatch_lines(
        [
            "dso env: local (from default)",
            "dso config: none (built-in local set-up) (from default)",
            "dso ticket: - (from default)",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(["*ENV=local TICKET=None TENANTS= WRITES=True*"])
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("ini", "toml", "env", "cli", "expected", "source"),
    [
        ("T-INI", None, None, None, "T-INI", "ini"),
        ("T-INI", "T-TOML", None, None, "T-TOML", "dso.toml"),
        ("T-INI", "T-TOML", "T-ENV", None, "T-ENV", "env DSO_TICKET"),
        ("T-INI", "T-TOML", "T-ENV", "T-CLI", "T-CLI", "option"),
    ],
)
def test_resolution_order_cli_env_toml_ini(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ini: str,
    toml: str | None,
    env: str | None,
    cli: str | None,
    expected: str,
    source: str,
) -> None:
    project.makeini(f"[pytest]\ndso_ticket = {ini}\n")
    if toml:
        project.path.joinpath("dso.toml").write_text(f'[dso]\nticket = "{toml}"\n')
    if env:
        monkeypatch.setenv("DSO_TICKET", env)
    args = ["-s"] + ([f"--dso-ticket={cli}"] if cli else [])
    result = project.runpytest(*args)
    result.stdout.fnmatch_lines([f"dso ticket: {expected} (from {source})", f"*TICKET={expected}*"])
    if toml:
        result.stdout.fnmatch_lines(["dso config: *dso.toml (from default: ./dso.toml exists)"])


def test_env_var_flag_and_tenant_list(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSO_ALLOW_WRITES", "yes")
    monkeypatch.setenv("DSO_TENANT", "00000099000000101000, TEST Waterschap Oefenwater")
    result = project.runpytest("-s")
    result.stdout.fnmatch_lines(
        [
            "dso tenants: 00000099000000101000, TEST Waterschap Oefenwater (from env DSO_TENANT)",
            "dso allow_writes: yes (from env DSO_ALLOW_WRITES)",
            "*TENANTS=00000099000000101000,TEST Waterschap Oefenwater*",
        ]
    )


@pytest.mark.parametrize(
    ("value", "shown", "writes"), [("true", "yes", True), ("false", "no", False)]
)
def test_ini_flags_are_booleans_and_a_false_one_is_still_from_the_ini(
    project: pytest.Pytester, value: str, shown: str, writes: bool
) -> None:
    project.makeini(f"[pytest]\ndso_allow_writes = {value}\n")
    result = project.runpytest("-s", "--dso-env=pre", "--dso-suites=none")
    result.stdout.fnmatch_lines(
        [f"dso allow_writes: {shown} (from ini)", f"*ENV=pre*WRITES={writes}*"]
    )


def test_a_non_boolean_ini_flag_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\ndso_allow_writes = maybe\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pytest-dso: allow_writes from ini key dso_allow_writes in *: *maybe*; "
         "use true or false"]
    )
    assert "Traceback" not in result.stderr.str()


def test_prod_writes_need_their_own_opt_in(project: pytest.Pytester) -> None:
    result = project.runpytest("-s", "--dso-env=prod", "--dso-allow-writes")
    result.stdout.fnmatch_lines(["*ENV=prod*WRITES=False*"])
    result = project.runpytest("-s", "--dso-env=prod", "--dso-allow-prod-writes")
    result.stdout.fnmatch_lines(["*ENV=prod*WRITES=True*"])


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (
            {"DSO_ENV": "prd"},
            [],
            "*env from environment variable DSO_ENV: 'prd' is not allowed; "
            "choose one of: local, pre, prod*",
        ),
        (
            {"DSO_ALLOW_WRITES": "maybe"},
            [],
            "*allow_writes from environment variable "
            "DSO_ALLOW_WRITES: 'maybe' is not a yes/no value*",
        ),
        (
            {},
            ["--dso-tenant=Gemeente Nergens"],
            "*--dso-tenant 'Gemeente Nergens' matches no "
            "*bevoegd_gezag* by OIN or name. "
            "Known: 00000099000000101000 (TEST Gemeente Oefenstad)*",
        ),
        ({}, ["--dso-config=missing.toml"], "*missing.toml is not valid:"),
    ],
)
def test_bad_values_are_usage_errors_naming_setting_and_allowed_values(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    setup: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    result = project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: pytest-dso: " in result.stderr.str()
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_bad_toml_is_reported_with_file_key_and_expected_type(project: pytest.Pytester) -> None:
    project.path.joinpath("dso.toml").write_text(
        "[certificate]\ncert = 'c.pem'\nkey = 'k.pem'\nexpiry_warning_days = 'soon'\n"
        "passphrase = 'geheim-123'\n[[bevoegd_gezag]]\noin = '00000001002220647000'\nname = 'X'\n"
        "[unknown]\n"
    )
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*dso.toml is not valid:*",
            "*[[]certificate[]] expiry_warning_days: expected an integer, got 'soon'",
            "*[[]certificate[]] passphrase: inline passphrases are not allowed*",
            "*[[]bevoegd_gezag #1[]] type: required key is missing",
            "*[[]unknown[]]: unknown section*",
        ]
    )
    assert "geheim-123" not in result.stderr.str() + result.stdout.str()


def test_help_works_whatever_the_configuration(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSO_ENV", "nonsense")
    project.path.joinpath("dso.toml").write_text("this is [ not toml")
    result = project.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["DSO-LV STAM connectivity and conformance (pytest-dso):", "  --dso-env={local,pre,prod}"]
    )


def test_markers_are_registered_with_help(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.dso_step(name): Label the test with the aansluitproces step*",
            "@pytest.mark.health: Read-only check*",
        ]
    )


def test_local_only_and_writes_are_skipped_remotely_with_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.local_only
        def test_negative():
            pass

        @pytest.mark.writes
        def test_change():
            pass
        """
    )
    result = pytester.runpytest("-rs", "--dso-env=prod", "--dso-allow-writes")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*negative conformance case: runs only against the embedded simulator, "
            "never against PROD",
            "*changes state on PROD; read-only unless --dso-allow-prod-writes",
        ]
    )
    pytester.runpytest().assert_outcomes(passed=2)
