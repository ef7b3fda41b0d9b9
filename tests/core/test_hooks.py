"""Each pytest-dso hook, called through pytest's hook caller in a real pytest run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso import hookspecs

ROOT = Path(__file__).parents[2]


def test_every_hook_spec_is_tested_here() -> None:
    hooks = sorted(name for name in vars(hookspecs) if name.startswith("pytest_dso_"))
    source = Path(__file__).read_text(encoding="utf-8")
    assert hooks == [
        "pytest_dso_redact",
        "pytest_dso_redactor",
        "pytest_dso_settings_resolved",
        "pytest_dso_trigger_source",
        "pytest_dso_vth_check",
    ]
    for hook in hooks:
        assert f"def test_{hook.removeprefix('pytest_dso_')}" in source, hook


# -- pytest_dso_redactor ---------------------------------------------------------------------

REDACT_TEST = """
import pathlib

def test_redact(dso_redactor):  # the result goes to a file: printed, it would be redacted again
    out = dso_redactor.redact_text("alpha beta gamma secret-4711")
    pathlib.Path("redacted.txt").write_text(out)
"""


def test_redactor_callables_are_chained_in_hook_order(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(other_plugin="""
import pytest

@pytest.hookimpl(trylast=True)
def pytest_dso_redactor(config):
    return lambda text: text.replace("BETA", "[beta]")
""")
    pytester.makepyfile(none_plugin="""
def pytest_dso_redactor(config):
    return None
""")
    pytester.makeconftest("""
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_dso_redactor(config):
    assert config.getoption("dso_env") is None  # the run's own config is passed
    return lambda text: text.replace("beta", "BETA")
""")
    pytester.mkpydir("sub").joinpath("conftest.py").write_text(
        "def pytest_dso_redactor(config):\n"
        "    return lambda text: None if 'gamma' not in text else text.replace('gamma', 'G')\n"
    )
    pytester.path.joinpath("sub", "test_redact.py").write_text(REDACT_TEST)
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "other_plugin", "-p", "none_plugin", "sub")
    result.assert_outcomes(passed=1)
    # tryfirst (beta -> BETA), then the sub conftest (gamma -> G), then trylast (BETA -> [beta]):
    # each on the previous one's output.
    assert (pytester.path / "redacted.txt").read_text() == "alpha [beta] G secret-4711"


def test_redact_the_deprecated_hook_still_redacts_chained_and_warns(
    pytester: pytest.Pytester,
) -> None:
    """A conftest written for ``pytest_dso_redact(text)`` keeps its secrets out (each
    implementation on the previous one's output, after the new callables) and is told to
    move to ``pytest_dso_redactor``."""
    pytester.makepyfile(old_plugin="""
def pytest_dso_redact(text):
    return text.replace("BETA", "[beta]")
""")
    pytester.makeconftest("""
def pytest_dso_redact(text):
    return text.replace("beta", "BETA") if "beta" in text else None

def pytest_dso_redactor(config):
    return lambda text: text.replace("gamma", "G")
""")
    pytester.makepyfile(test_redact=REDACT_TEST)
    pytester.syspathinsert()
    result = pytester.runpytest("-p", "old_plugin", "-W", "always::DeprecationWarning")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "redacted.txt").read_text() == "alpha [beta] G secret-4711"
    result.stdout.fnmatch_lines(["*pytest_dso_redact(text) is deprecated: implement "
                                 "pytest_dso_redactor(config)*"])


def test_redactor_hook_sees_secrets_registered_at_runtime_removed_first(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("""
seen = []

def pytest_dso_redactor(config):
    def redaction(text):
        seen.append(text)
        return text.upper()
    return redaction
""")
    pytester.makepyfile(test_it="""
import conftest

def test_it(dso_redactor):
    dso_redactor.add_secret("hunter2-secret")
    assert dso_redactor.redact_text("pw hunter2-secret") == "PW [REDACTED]"
    assert conftest.seen[-1] == "pw [REDACTED]"
    assert all("hunter2" not in text for text in conftest.seen)
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_redactor_without_implementations_leaves_text_unchanged(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_redact=REDACT_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert (pytester.path / "redacted.txt").read_text() == "alpha beta gamma secret-4711"


# -- pytest_dso_settings_resolved ------------------------------------------------------------


def test_settings_resolved_is_called_once_with_the_frozen_settings(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("""
calls = []

def pytest_dso_settings_resolved(settings):
    calls.append(settings)
""")
    pytester.makepyfile(test_it="""
import dataclasses
import conftest

def test_it(dso_settings):
    assert conftest.calls == [dso_settings]
    assert dso_settings.ticket == "TCK-77"
    try:
        dso_settings.ticket = "other"
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("settings are not frozen")
""")
    result = pytester.runpytest("--dso-ticket=TCK-77")
    result.assert_outcomes(passed=1)


def test_settings_resolved_may_stop_the_run_with_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest("""
import pytest

def pytest_dso_settings_resolved(settings):
    if settings.env == "prod" and not settings.ticket:
        raise pytest.UsageError("our policy: a PROD run needs --dso-ticket")
""")
    pytester.makepyfile(test_it="def test_it():\n    pass\n")
    result = pytester.runpytest("--dso-env=prod")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: our policy: a PROD run needs --dso-ticket"])
    result = pytester.runpytest("--dso-env=local")
    result.assert_outcomes(passed=1)


def test_settings_resolved_is_not_called_when_pytest_dso_is_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSO_SUITES")
    pytester.makeconftest("""
def pytest_dso_settings_resolved(settings):
    raise AssertionError("called in a run that did not ask for pytest-dso")
""")
    pytester.makepyfile(test_it="def test_it():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


# -- pytest_dso_trigger_source ---------------------------------------------------------------


def test_trigger_source_first_non_none_answer_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(not_ours="""
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_dso_trigger_source(name, settings):
    return None  # not ours: the next implementation decides
""")
    pytester.makeconftest("""
from pytest_dso.triggers.base import LoggingSource

class Esb(LoggingSource):
    name = "our-esb"

def pytest_dso_trigger_source(name, settings):
    assert settings.env == "local"
    return Esb() if name == "folder" else None
""")
    pytester.syspathinsert()
    pytester.makefile(".toml", dso='[triggers]\nsource = "folder"\n')
    pytester.makepyfile(test_it="""
from pytest_dso.triggers.base import TriggerSource

def test_it(dso_trigger_source):
    assert dso_trigger_source.name == "our-esb"
    assert isinstance(dso_trigger_source, TriggerSource)
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "not_ours")
    result.assert_outcomes(passed=1)


def test_trigger_source_without_an_answer_is_the_built_in_one(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("def pytest_dso_trigger_source(name, settings):\n    return None\n")
    pytester.makefile(".toml", dso='[triggers]\nsource = "folder"\n')
    pytester.makepyfile(test_it="""
def test_it(dso_trigger_source):
    assert type(dso_trigger_source).__name__ == "FolderTriggerSource"
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# -- pytest_dso_vth_check --------------------------------------------------------------------

VTH_TEST = """
from pytest_dso.e2e.vth import VerzoekForVth

def test_it(dso_vth_check):
    verzoek = VerzoekForVth("2026010100001", "00000099000000101000", "TEST Gemeente Oefenstad",
                            "local", None)
    outcome = dso_vth_check(verzoek)
    print("VTH", outcome.status, outcome.reference, outcome.detail)
"""


def test_vth_check_first_answer_wins_and_none_passes_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(first="""
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_dso_vth_check(verzoek):
    return None
""", last="""
import pytest

@pytest.hookimpl(trylast=True)
def pytest_dso_vth_check(verzoek):
    raise AssertionError("not reached: an earlier implementation answered")
""")
    pytester.makeconftest("""
from pytest_dso.e2e.vth import VthOutcome

def pytest_dso_vth_check(verzoek):
    return VthOutcome.visible(reference="ZAAK-" + verzoek.verzoeknummer)
""")
    pytester.makepyfile(test_vth=VTH_TEST)
    pytester.syspathinsert()
    result = pytester.runpytest("-s", "-p", "first", "-p", "last")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*VTH visible ZAAK-2026010100001 *"])


def test_vth_check_without_an_answer_is_manual(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("def pytest_dso_vth_check(verzoek):\n    return None\n")
    pytester.makepyfile(test_vth=VTH_TEST)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*VTH manual  no VTH check is configured*"])
