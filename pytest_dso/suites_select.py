"""Which packaged conformance suites a run collects, and whether a PRE/PROD run has what the
suites need before the first test.

The suites ship as the package ``pytest_dso.suites`` (the top-level ``suites/`` folder of the
repository). They are added to a run that names no test paths of its own; ``--dso-suites``
picks some (``pkio,cpa``) or none.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_dso.settings import DsoSettings

ALL = "all"
NONE = "none"


class SuiteError(ValueError):
    """``--dso-suites`` names a suite that does not exist."""


def suites_dir() -> Path | None:
    """The folder of the packaged suites (``None`` if the package is missing)."""
    spec = importlib.util.find_spec("pytest_dso.suites")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def available_suites(folder: Path | None = None) -> dict[str, Path]:
    """Suite name (``pkio`` for ``test_pkio.py``) to file, sorted by name."""
    folder = suites_dir() if folder is None else folder
    if folder is None:
        return {}
    return {p.stem.removeprefix("test_"): p for p in sorted(folder.glob("test_*.py"))}


def select_suites(selection: Sequence[str], folder: Path) -> list[Path]:
    """The suite files ``selection`` leaves out (empty: all run; every file: none runs).
    Raises :class:`SuiteError` for a name that is no suite."""
    names = [s.strip().lower() for s in selection if s.strip()]
    known = available_suites(folder)
    if not names or names == [ALL]:
        return []
    if names == [NONE]:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown or ALL in names or NONE in names:
        bad = unknown or [n for n in names if n in (ALL, NONE)]
        raise SuiteError(
            f"--dso-suites: {', '.join(bad)} cannot be used here; give 'all', 'none' or a "
            f"comma-separated list of: {', '.join(known)}"
        )
    return [path for name, path in known.items() if name not in names]


@dataclass(frozen=True)
class ArgsPlan:
    """The collection arguments after the suite selection, the suite files to leave out, and
    whether any suite runs."""

    args: list[str]
    runs_suites: bool
    left_out: frozenset[Path] = frozenset()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def plan_args(
    args: Sequence[str],
    source: str,
    selection: Sequence[str],
    invocation_dir: Path,
    folder: Path | None = None,
) -> ArgsPlan:
    """Apply the suite selection to pytest's collection arguments.

    ``source`` is pytest's ``Config.args_source`` name: ``ARGS`` (the user named paths; they
    are kept as they are), ``TESTPATHS`` (the ini's ``testpaths``: the selection applies to a
    testpath that is the packaged suites folder) or ``INVOCATION_DIR`` (nothing named: the
    suites folder is added to the folder pytest runs in). The folder itself is always the
    argument, so test ids read ``test_pkio.py::...`` whichever suites are picked.
    """
    folder = suites_dir() if folder is None else folder
    if folder is None:
        return ArgsPlan(list(args), False)

    def as_path(arg: str) -> Path:
        return (invocation_dir / arg.split("::")[0]).resolve()

    inside = [a for a in args if _inside(as_path(a), folder)]
    if source == "ARGS":
        return ArgsPlan(list(args), bool(inside))
    left_out = select_suites(selection, folder)
    runs = len(left_out) < len(available_suites(folder))
    if source == "TESTPATHS" and not inside:
        return ArgsPlan(list(args), False)
    kept = [a for a in args if a not in inside]
    holds_suites = any(folder.is_relative_to(as_path(a)) for a in kept)
    extra = [] if holds_suites or not runs else [str(folder)]
    return ArgsPlan([*kept, *extra], runs, frozenset(left_out))


def remote_readiness(settings: DsoSettings) -> list[str]:
    """What a PRE or PROD run of the suites lacks in its configuration (empty: ready)."""
    missing: list[str] = []
    where = f" in {settings.config_path}" if settings.config_path else " (no dso.toml found)"
    cert = settings.file.certificate
    if cert is None:
        missing.append(
            f"[certificate]{where}: your PKIoverheid certificate for mTLS "
            "(cert + key as PEM files, or pkcs12)"
        )
    else:
        for name in ("cert", "key", "pkcs12", "chain", "ca_bundle", "passphrase_file"):
            path = getattr(cert, name)
            if path is not None and not Path(path).is_file():
                missing.append(f"[certificate] {name}: file not found: {path}")
    cpa = settings.file.ebms.cpa
    if cpa is None:
        missing.append(
            f"[ebms] cpa{where}: the CPA of your DKA with DSO-LV from the CPA register"
        )
    elif not Path(cpa).is_file():
        missing.append(f"[ebms] cpa: file not found: {cpa}")
    if not settings.bevoegde_gezagen():
        missing.append(
            f"[[bevoegd_gezag]]{where}: at least one bevoegd gezag (oin, name, type) to test for"
        )
    return missing
