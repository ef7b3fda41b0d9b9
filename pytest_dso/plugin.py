"""The pytest plugin ``dso``: one option group, settings with their sources, markers, header.

Installed, the plugin is inert until asked for: it acts only when a ``--dso-*`` option is
given, a ``DSO_*`` setting variable is set, a ``dso.toml`` lies in the folder pytest runs in
or in its rootdir, or the rootdir's ini file sets a ``dso_*`` key. Otherwise it prints, writes
and deletes nothing, and its fixtures fail with a message saying how to turn it on. Hooks of
the area modules check :func:`is_active` (or ``SETTINGS_KEY in config.stash``) first.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_dso import hookspecs
from pytest_dso.dsofile import ConfigError
from pytest_dso.settings import SPECS, DsoSettings, SettingError, read_ini, resolve_settings
from pytest_dso.suites_select import SuiteError, plan_args, remote_readiness
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
    "pytest_dso.fixtures.health",
    "pytest_dso.fixtures.cpa_offer",
]

SETTINGS_KEY = pytest.StashKey[DsoSettings]()
ACTIVE_KEY = pytest.StashKey["str | None"]()
LEFT_OUT_KEY = pytest.StashKey[frozenset[Path]]()
#: The folders pytest-dso writes its evidence into, which collection does not walk.
OWN_DIRS_KEY = pytest.StashKey[frozenset[Path]]()
#: On an xdist worker in local mode: (its number, the number of workers); tenant ``i`` of the
#: run is at home on worker ``i mod count`` (see :mod:`pytest_dso.fixtures.xdist`).
HOME_SHARD_KEY = pytest.StashKey[tuple[int, int]]()
#: On an xdist worker: the controller's private folder for the run, which every worker reaches
#: (the test PKI is shared there, see :mod:`pytest_dso.pkio.sharedpki`).
RUN_FOLDER_KEY = pytest.StashKey[Path]()

MARKERS = {
    "dso_step(name)": "Label the test with the aansluitproces step it proves, e.g. 'PRE 2.6' "
    "or 'PROD 7'.",
    "health": "Read-only check fit for scheduled health runs (pytest -m health).",
    "local_only": "Negative conformance check; runs only against the embedded simulator, "
    "never against PRE or PROD.",
    "writes": "Changes state in DSO-LV; skipped unless writes are allowed for the environment.",
    "manual": "A step that needs a person; the run records what evidence it needs.",
    "tenant(oin)": "The bevoegd gezag or behandeldienst a test is about.",
    "dso_property(name, value)": "Record a property of the test, as the dso_property fixture "
    "does, before it runs (so also when it is skipped before its set-up).",
}


_METAVARS = {"config": "PATH", "verzoeknummer": "NUMMER", "output": "DIR", "suites": "SUITES"}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dso", "DSO-LV STAM connectivity and conformance (pytest-dso)")
    for spec in SPECS:
        kwargs: dict[str, object] = {"dest": spec.dest, "default": None, "help": spec.help}
        if spec.kind == "flag":
            kwargs["action"] = "store_true"
        elif spec.kind == "list":
            kwargs.update(action="append", metavar=_METAVARS.get(spec.name, "OIN_OR_NAME"))
        elif spec.kind == "choice":
            kwargs["choices"] = spec.choices
        else:
            kwargs["metavar"] = _METAVARS.get(spec.name, spec.name.upper())
        group.addoption(spec.option, **kwargs)
        ini_help = f"{spec.help} (Also {spec.option} or {spec.env}.)"
        if spec.kind == "list":
            parser.addini(spec.ini, ini_help, type="args")
        elif spec.kind == "flag":  # unset is None, so an ini `false` still counts as given
            parser.addini(spec.ini, ini_help, type="bool", default=None)
        else:
            parser.addini(spec.ini, ini_help, type="string")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Undo a rootdir that pytest took from the value of a ``--dso-*`` option.

    pytest picks the rootdir and ini file before plugins are loaded, so in ``--dso-config
    conf/dso.toml`` (with a space) it takes ``conf/dso.toml`` for a test path and roots the run
    in ``conf/``. Now that the options are known, the rootdir is determined again without
    those values, before any conftest is loaded.
    """
    values = _option_values(args)
    if not values:
        return
    try:
        _redetermine_rootdir(early_config, args)
    except (AttributeError, TypeError, ValueError) as exc:  # a pytest whose internals differ
        raise pytest.UsageError(
            f"pytest-dso: cannot place the rootdir for {' '.join(values)} ({exc}); write the "
            "options with '=', e.g. --dso-config=conf/dso.toml"
        ) from None


def _option_values(args: list[str]) -> list[str]:
    """``--dso-x VALUE`` pairs (with a space) whose value names an existing path."""
    takes_value = {spec.option for spec in SPECS if spec.kind != "flag"}
    found: list[str] = []
    for option, value in itertools.pairwise(args):
        if option in takes_value and not value.startswith("-") and Path(value).exists():
            found.extend((option, value))
    return found


def _redetermine_rootdir(config: pytest.Config, args: list[str]) -> None:
    from _pytest.config.findpaths import determine_setup

    ns = config.known_args_namespace  # parsed again after the plugins added their options
    kwargs: dict[str, object] = {
        "inifile": ns.inifilename,
        "args": ns.file_or_dir,
        "rootdir_cmd_arg": ns.rootdir or None,
        "invocation_dir": config.invocation_params.dir,
    }
    if "override_ini" in inspect.signature(determine_setup).parameters:
        kwargs["override_ini"] = ns.override_ini
    found: Any = determine_setup(**kwargs)  # type: ignore[arg-type]
    rootpath, inipath, inicfg = found[0], found[1], found[2]
    old_root, old_ini = config.rootpath, config.inipath
    if (rootpath, inipath) == (old_root, old_ini):
        return
    old_addopts = list(config.getini("addopts"))
    cfg: Any = config  # private attributes of pytest's Config (8.3 to 9.x)
    cfg._rootpath, cfg._inipath = rootpath, inipath
    if hasattr(cfg, "_inicfg"):
        cfg._inicfg = inicfg
        if len(found) > 3:
            cfg._ignored_config_files = found[3]
    else:
        cfg.inicfg = inicfg
    cfg._inicache.clear()
    cfg._parser.extra_info["rootdir"] = str(rootpath)
    cfg._parser.extra_info["inifile"] = str(inipath)
    derived = str(old_ini.parent) if old_ini is not None else str(old_root)
    if ns.confcutdir == derived and "--confcutdir" not in " ".join(args):
        ns.confcutdir = str(inipath.parent if inipath is not None else rootpath)
    # The wrong ini's addopts went in front of the arguments; the right one's belong there.
    if old_addopts and args[: len(old_addopts)] == old_addopts:
        del args[: len(old_addopts)]
    args[:0] = list(config.getini("addopts"))
    cfg.known_args_namespace = cfg._parser.parse_known_args(
        args, namespace=copy.copy(config.option)
    )
    cfg.known_args_namespace.confcutdir = ns.confcutdir


def _skip_resolution(config: pytest.Config) -> bool:
    return bool(config.getoption("help", False) or config.getoption("version", False))


def activation_reason(
    config: pytest.Config, environ: Mapping[str, str] | None = None
) -> str | None:
    """What asked for pytest-dso in this run, or ``None``: then the plugin stays inert."""
    environ = os.environ if environ is None else environ
    for spec in SPECS:
        if config.getoption(spec.dest, None) not in (None, [], ()):
            return f"option {spec.option}"
    for spec in SPECS:
        if spec.env in environ:
            return f"environment variable {spec.env}"
    for folder in (Path(config.invocation_params.dir), config.rootpath):
        if (folder / "dso.toml").is_file():
            return f"{folder / 'dso.toml'}"
    for spec in SPECS:
        try:
            value = read_ini(config, spec)
        except SettingError as exc:
            raise pytest.UsageError(f"pytest-dso: {exc}") from None
        if value not in (None, "", [], ()):
            return f"ini key {spec.ini} in {config.inipath}"
    return None


def is_active(config: pytest.Config) -> bool:
    """Whether this run asked for pytest-dso (decided once, in ``pytest_configure``)."""
    if ACTIVE_KEY not in config.stash:
        config.stash[ACTIVE_KEY] = activation_reason(config)
    return config.stash[ACTIVE_KEY] is not None


def inactive_message(config: pytest.Config) -> str:
    """What to do when a pytest-dso fixture is used in a run that did not ask for it."""
    return (
        "pytest-dso is not active in this run, so its fixtures have no settings. Turn it on "
        "with a --dso-* option (e.g. --dso-env=local for the embedded simulator), a DSO_* "
        f"variable (e.g. DSO_ENV=pre), or a dso.toml in {config.rootpath} (dso-init writes one)."
    )


def ensure_settings(config: pytest.Config) -> DsoSettings:
    """Resolve the settings once per run (any hook may ask first) and keep them in the stash.

    Raises ``pytest.UsageError`` naming the setting, the value and what is allowed, or saying
    how to turn pytest-dso on when this run did not ask for it.
    """
    if SETTINGS_KEY in config.stash:
        return config.stash[SETTINGS_KEY]
    if not is_active(config):
        raise pytest.UsageError(inactive_message(config))
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
    if _skip_resolution(config) or not is_active(config):
        return
    settings = ensure_settings(config)
    try:
        plan = plan_args(
            config.args,
            config.args_source.name,
            settings.suites,
            Path(config.invocation_params.dir),
        )
    except SuiteError as exc:
        raise pytest.UsageError(f"pytest-dso: {exc}") from None
    config.args[:] = plan.args
    config.stash[LEFT_OUT_KEY] = plan.left_out
    config.stash[OWN_DIRS_KEY] = _own_dirs(config, settings)
    if plan.runs_suites and settings.env != "local" and not listing_only(config):
        missing = remote_readiness(settings)
        if missing:
            raise pytest.UsageError(_not_ready_message(settings.env, missing))
    if settings.env == "local":
        _check_simulator_limits(settings)


def _check_simulator_limits(settings: DsoSettings) -> None:
    """``[simulator.limits]`` checked before any test: a bad entry is a usage error naming it,
    not a failing simulator fixture."""
    from pytest_dso.sim.config import LimitError, parse_limits

    try:
        parse_limits(settings.file.simulator.limits)
    except LimitError as exc:
        where = f" in {settings.file.path}" if settings.file.path else ""
        raise pytest.UsageError(f"pytest-dso: {exc}{where}") from None


def _own_dirs(config: pytest.Config, settings: DsoSettings) -> frozenset[Path]:
    """The folders the run writes into (``--dso-output``, the Allure results folder) that
    collection skips: the previous run's results, thousands of files for many tenants, would
    otherwise be walked by every run collecting the folder around them. A folder that holds
    the invocation folder or the rootdir, or is in or around a path the run names (other than
    those two), stays collected."""
    start = Path(config.invocation_params.dir)
    tops = (start, config.rootpath)
    named = {(start / arg.split("::")[0]).absolute() for arg in config.args} - set(tops)
    chosen = [settings.output_dir, settings.file.evidence.allure_dir,
              getattr(config.option, "allure_report_dir", None)]
    own: set[Path] = set()
    for folder in {(start / p).absolute() for p in chosen if p}:
        if any(top == folder or folder in top.parents for top in tops) or any(
                path == folder or folder in path.parents or path in folder.parents
                for path in named):
            continue
        own |= {folder, folder.resolve()}
    return frozenset(own)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the packaged suites that ``--dso-suites`` did not pick, and the folders the
    run writes its evidence into."""
    if collection_path in config.stash.get(OWN_DIRS_KEY, frozenset()):
        return True
    left_out = config.stash.get(LEFT_OUT_KEY, frozenset())
    if left_out and collection_path.resolve() in left_out:
        return True
    return None


def listing_only(config: pytest.Config) -> bool:
    """Whether the run only lists (``--collect-only``, ``--fixtures``, ``--fixtures-per-test``,
    ``--markers``) and runs no test: no need to fail fast, no results folder to make."""
    return bool(
        config.option.collectonly
        or config.getoption("showfixtures", False)
        or config.getoption("show_fixtures_per_test", False)
        or config.getoption("markers", False)
    )


def _not_ready_message(env: str, missing: list[str]) -> str:
    lines = [
        f"pytest-dso: --dso-env={env} needs more in dso.toml before the suites can run; missing:",
        *(f"  - {item}" for item in missing),
        f"Start from examples/{env}/dso.toml of pytest-dso (`dso-init --env {env}` writes the "
        "same file here, with your OINs), or run only your own tests with --dso-suites=none.",
    ]
    return "\n".join(lines)


def settings_of(config: pytest.Config) -> DsoSettings:
    """The resolved settings of this run."""
    try:
        return config.stash[SETTINGS_KEY]
    except KeyError:
        raise pytest.UsageError(inactive_message(config)) from None


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
