"""The pytest plugin ``dso``: one option group, settings with their sources, markers, header."""

from __future__ import annotations

import pytest

from pytest_dso import hookspecs
from pytest_dso.dsofile import ConfigError
from pytest_dso.settings import SPECS, DsoSettings, SettingError, resolve_settings
from pytest_dso.tenants import UnknownTenantError

#: Area modules holding fixtures and hooks, registered with this plugin.
pytest_plugins = [
    "pytest_dso.fixtures.core",
    "pytest_dso.fixtures.pkio",
    "pytest_dso.fixtures.ebms",
    "pytest_dso.fixtures.network",
    "pytest_dso.fixtures.sim",
    "pytest_dso.fixtures.e2e",
    "pytest_dso.fixtures.evidence",
    "pytest_dso.fixtures.xdist",
]

SETTINGS_KEY = pytest.StashKey[DsoSettings]()

MARKERS = {
    "dso_step(name)": "Label the test with the aansluitproces step it proves, e.g. 'PRE 2.6' "
    "or 'PROD 7'.",
    "health": "Read-only check fit for scheduled health runs (pytest -m health).",
    "local_only": "Negative conformance check; runs only against the embedded simulator, "
    "never against PRE or PROD.",
    "writes": "Changes state in DSO-LV; skipped unless writes are allowed for the environment.",
    "manual": "A step that needs a person; the run records what evidence it needs.",
    "tenant(oin)": "The bevoegd gezag or behandeldienst a test is about.",
}


_METAVARS = {"config": "PATH", "verzoeknummer": "NUMMER", "output": "DIR"}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dso", "DSO-LV STAM connectivity and conformance (pytest-dso)")
    for spec in SPECS:
        kwargs: dict[str, object] = {"dest": spec.dest, "default": None, "help": spec.help}
        if spec.kind == "flag":
            kwargs["action"] = "store_true"
        elif spec.kind == "list":
            kwargs.update(action="append", metavar="OIN_OR_NAME")
        elif spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["metavar"] = _METAVARS.get(spec.name, spec.name.upper())
        group.addoption(spec.option, **kwargs)
        ini_help = f"{spec.help} (Also {spec.option} or {spec.env}.)"
        if spec.kind == "list":
            parser.addini(spec.ini, ini_help, type="args")
        else:
            parser.addini(spec.ini, ini_help, type="string")


def _skip_resolution(config: pytest.Config) -> bool:
    return bool(config.getoption("help", False) or config.getoption("version", False))


def ensure_settings(config: pytest.Config) -> DsoSettings:
    """Resolve the settings once per run (any hook may ask first) and keep them in the stash.

    Raises ``pytest.UsageError`` naming the setting, the value and what is allowed.
    """
    if SETTINGS_KEY in config.stash:
        return config.stash[SETTINGS_KEY]
    try:
        settings = resolve_settings(config)
        settings.tenants()
    except (SettingError, ConfigError, UnknownTenantError) as exc:
        raise pytest.UsageError(f"pytest-dso: {exc}") from None
    config.stash[SETTINGS_KEY] = settings
    config.hook.pytest_dso_settings_resolved(settings=settings)
    return settings


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {doc}")
    if not _skip_resolution(config):
        ensure_settings(config)


def settings_of(config: pytest.Config) -> DsoSettings:
    """The resolved settings of this run."""
    try:
        return config.stash[SETTINGS_KEY]
    except KeyError:
        raise pytest.UsageError(
            "pytest-dso settings are not resolved (is the plugin disabled?)"
        ) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    if SETTINGS_KEY not in config.stash:
        return []
    return config.stash[SETTINGS_KEY].header_lines()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SETTINGS_KEY not in config.stash:
        return
    settings = config.stash[SETTINGS_KEY]
    for item in items:
        if settings.env != "local" and item.get_closest_marker("local_only"):
            item.add_marker(
                pytest.mark.skip(
                    reason=f"negative conformance case: runs only against the embedded "
                    f"simulator, never against {settings.env.upper()}"
                )
            )
        if item.get_closest_marker("writes") and not settings.writes_allowed():
            flag = "--dso-allow-prod-writes" if settings.env == "prod" else "--dso-allow-writes"
            item.add_marker(
                pytest.mark.skip(
                    reason=f"changes state on {settings.env.upper()}; read-only unless {flag}"
                )
            )
