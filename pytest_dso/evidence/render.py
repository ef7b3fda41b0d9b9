"""Render the Allure results folder into ONE self-contained HTML file, offline.

Uses the npm package ``allure`` (Allure 3), pinned in ``package.json`` at the repository root,
with the ``allure2`` report type: it is the only type that honours
``ALLURE_NO_ANALYTICS=true`` (the others always embed a Google Tag Manager script). The
result is checked for ``googletagmanager`` and for external scripts; analytics scripts are
stripped as a second line of defence.

Rendering is optional: a run never needs Node. Without Node/npm the caller gets a
:class:`RenderResult` saying what is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The pinned version; must equal the one in ``package.json``.
ALLURE_NPM_VERSION = "3.18.0"
NPM_TIMEOUT = 600.0
RENDER_TIMEOUT = 300.0

_GTAG_SCRIPT = re.compile(
    r"<script\b[^>]*>(?:(?!</script>)[\s\S])*?(?:googletagmanager|gtag\(|dataLayer)"
    r"(?:(?!</script>)[\s\S])*</script>|<script\b[^>]*googletagmanager[^>]*>\s*</script>",
    re.IGNORECASE,
)
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)


class RenderUnavailable(RuntimeError):
    """Node, npm or the allure package is missing; the message says what to install."""


@dataclass(frozen=True)
class RenderResult:
    """The outcome of rendering: the HTML file (when made) and a message for the user."""

    html: Path | None
    message: str
    unavailable: bool = False

    @property
    def ok(self) -> bool:
        """Whether the HTML file was written."""
        return self.html is not None


def project_dir() -> Path | None:
    """The repository root holding ``package.json`` with ``allure``, when pytest-dso runs
    from a checkout; ``None`` for an installed package."""
    root = Path(__file__).resolve().parents[2]
    package = root / "package.json"
    if not package.is_file():
        return None
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    deps = data.get("dependencies", {}) if isinstance(data, dict) else {}
    return root if isinstance(deps, dict) and "allure" in deps else None


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the allure package is installed when there is no checkout:
    ``$DSO_REPORT_CACHE`` or ``$XDG_CACHE_HOME/pytest-dso/allure-<version>``."""
    environ = os.environ if environ is None else environ
    if environ.get("DSO_REPORT_CACHE"):
        return Path(environ["DSO_REPORT_CACHE"])
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pytest-dso" / f"allure-{ALLURE_NPM_VERSION}"


def _cli_script(folder: Path) -> Path | None:
    package = folder / "node_modules" / "allure" / "package.json"
    if not package.is_file():
        return None
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    bins = data.get("bin") if isinstance(data, dict) else None
    target = (
        bins.get("allure") if isinstance(bins, dict) else bins if isinstance(bins, str) else None
    )
    if not isinstance(target, str):
        return None
    script = (package.parent / target).resolve()
    return script if script.is_file() else None


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RenderUnavailable(
            "Node.js is not installed (no 'node' on PATH). Install Node.js 20 or newer "
            "(https://nodejs.org/) to render the HTML report; the Allure results folder is "
            "complete without it."
        )
    return node


def _npm_install(folder: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RenderUnavailable(
            "npm is not installed (no 'npm' on PATH); it comes with Node.js and is needed once "
            f"to install the pinned allure@{ALLURE_NPM_VERSION}."
        )
    lock = folder / "package-lock.json"
    command = [npm, "ci" if lock.is_file() else "install", "--no-audit", "--no-fund"]
    try:
        done = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderUnavailable(
            f"'{' '.join(command[1:])}' in {folder} did not finish within {NPM_TIMEOUT:.0f} s "
            "(no access to the npm registry?)"
        ) from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RenderUnavailable(
            f"'npm {command[1]}' in {folder} failed (exit {done.returncode}); is the npm registry "
            f"reachable? Last lines:\n{tail}"
        )


def ensure_allure(install: bool = True, environ: Mapping[str, str] | None = None) -> Path:
    """The allure CLI script, installing the pinned package when it is missing and
    ``install`` is true. Raises :class:`RenderUnavailable` saying what is missing."""
    _node()
    repo = project_dir()
    candidates = [repo] if repo is not None else []
    cache = cache_dir(environ)
    candidates.append(cache)
    for folder in candidates:
        script = _cli_script(folder)
        if script is not None:
            return script
    if not install:
        raise RenderUnavailable(
            f"the npm package allure@{ALLURE_NPM_VERSION} is not installed; run 'dso-report' "
            "once (it installs it) or 'npm ci' in the pytest-dso checkout"
        )
    target = repo if repo is not None else cache
    if repo is None:
        cache.mkdir(parents=True, exist_ok=True)
        package = {
            "name": "pytest-dso-report-cache",
            "private": True,
            "dependencies": {"allure": ALLURE_NPM_VERSION},
        }
        (cache / "package.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    _npm_install(target)
    script = _cli_script(target)
    if script is None:
        raise RenderUnavailable(f"npm finished but {target}/node_modules/allure has no CLI")
    return script


def strip_analytics(page: str) -> str:
    """Remove Google Tag Manager / gtag scripts from an HTML page."""
    return _GTAG_SCRIPT.sub("", page)


def offline_problems(page: str) -> list[str]:
    """Why ``page`` is not a private, self-contained file: analytics, external scripts or
    stylesheets. Empty when it is fine."""
    problems = []
    if "googletagmanager" in page.lower():
        problems.append("contains a googletagmanager reference")
    if _EXTERNAL_SCRIPT.search(page):
        problems.append("loads a script from the network")
    if _EXTERNAL_LINK.search(page):
        problems.append("links a stylesheet or resource from the network")
    return problems


_SUMMARY_WIDGET = re.compile(r'd\("widgets/summary\.json","(?P<data>[A-Za-z0-9+/=]*)"\)')


def report_title(props: Mapping[str, str]) -> str:
    """The report's title from ``environment.properties``: environment, ticket and
    leverancier, e.g. ``pytest-dso PRE, ticket 12345, leverancier VTH BV (0000…)``."""
    env = (props.get("omgeving") or "LOCAL").upper()
    shown = "LOCAL (oefening)" if env == "LOCAL" else env
    parts = [f"pytest-dso {shown}"]
    ticket = props.get("ticketnummer")
    parts.append(f"ticket {ticket}" if ticket and ticket != "-" else "geen ticket")
    if props.get("leverancier"):
        parts.append(f"leverancier {props['leverancier']}")
    return ", ".join(parts)


def set_report_name(page: str, name: str) -> str:
    """``page`` (an Allure 2 single-file report) with ``name`` as its title and report name:
    the ``allure2`` command ignores ``--report-name``."""
    escaped = (name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    page = re.sub(r"<title>[^<]*</title>", lambda _m: f"<title>{escaped}</title>", page, count=1)

    def widget(match: re.Match[str]) -> str:
        try:
            data = json.loads(base64.b64decode(match.group("data")))
        except ValueError:
            return match.group(0)
        if not isinstance(data, dict):
            return match.group(0)
        data["reportName"] = name
        encoded = base64.b64encode(json.dumps(data, ensure_ascii=False).encode("utf-8"))
        return f'd("widgets/summary.json","{encoded.decode("ascii")}")'

    return _SUMMARY_WIDGET.sub(widget, page)


def render_single_file(
    results_dir: Path,
    output: Path,
    *,
    name: str | None = None,
    install: bool = True,
    environ: Mapping[str, str] | None = None,
) -> RenderResult:
    """Render ``results_dir`` into the single HTML file ``output``, titled ``name`` (by
    default :func:`report_title` of the run's ``environment.properties``)."""
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        return RenderResult(None, f"no Allure results in {results_dir} (run pytest first)")
    if name is None:
        from pytest_dso.evidence.results import read_environment

        name = report_title(read_environment(results_dir))
    title = name
    try:
        node = _node()
        script = ensure_allure(install, environ)
    except RenderUnavailable as exc:
        return RenderResult(None, str(exc), unavailable=True)
    env = {
        **(os.environ if environ is None else environ),
        "ALLURE_NO_ANALYTICS": "true",
        "NO_COLOR": "1",
    }
    with tempfile.TemporaryDirectory(prefix="dso-report-") as tmp:
        out_dir = Path(tmp) / "report"
        command = [
            node,
            str(script),
            "allure2",
            str(results_dir.absolute()),
            "--single-file",
            "--output",
            str(out_dir),
            "--report-name",
            title,
        ]
        try:
            done = subprocess.run(
                command,
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=RENDER_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return RenderResult(None, f"allure did not finish within {RENDER_TIMEOUT:.0f} s")
        index = out_dir / "index.html"
        if done.returncode != 0 or not index.is_file():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            return RenderResult(None, f"allure failed (exit {done.returncode}):\n{tail}")
        page = set_report_name(strip_analytics(index.read_text(encoding="utf-8")), title)
    problems = offline_problems(page)
    if problems:
        return RenderResult(
            None, "the rendered report is not private/offline: " + "; ".join(problems)
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return RenderResult(
        output, f"HTML report written to {output} ({output.stat().st_size // 1024} KiB)"
    )
