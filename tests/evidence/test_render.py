"""``dso-report``: the single-file HTML report (when Node and the pinned allure package are
present) and a clear message when they are not."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from pytest_dso.cli.report import main as dso_report
from pytest_dso.evidence.manifest import verify_manifest
from pytest_dso.evidence.render import (
    ALLURE_NPM_VERSION,
    RenderUnavailable,
    ensure_allure,
    offline_problems,
    project_dir,
    strip_analytics,
)

REPO = Path(__file__).resolve().parents[2]

TESTS = """
import pytest


@pytest.mark.dso_step("PRE 2.6")
def test_pingpong(dso_evidence):
    dso_evidence.attach_text("pong", "pong")


@pytest.mark.dso_step("PRE 2.4")
def test_tls():
    raise ConnectionError("SSL: CERTIFICATE_VERIFY_FAILED while connecting")
"""


def test_package_json_pins_the_same_allure_version() -> None:
    package = json.loads((REPO / "package.json").read_text())
    assert package["dependencies"]["allure"] == ALLURE_NPM_VERSION
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == ALLURE_NPM_VERSION
    assert project_dir() == REPO


def test_strip_analytics_and_offline_check() -> None:
    page = (
        "<html><head><script async "
        'src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
        "<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}"
        "gtag('config','G-1')</script><script>var app=1</script></head></html>"
    )
    assert "loads a script from the network" in offline_problems(page)
    cleaned = strip_analytics(page)
    assert offline_problems(cleaned) == []
    assert "<script>var app=1</script>" in cleaned


def test_without_node_it_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "a-result.json").write_text("{}")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    args = ["--results", str(results), "--output", str(tmp_path / "r.html")]
    assert dso_report(args) == 0
    assert "Node.js is not installed" in capsys.readouterr().out
    assert dso_report([*args, "--strict"]) == 3
    assert not (tmp_path / "r.html").exists()
    # The bundle is still written, with a note instead of the report.
    assert (
        dso_report(
            [
                "bundle",
                "--ticket",
                "T-1",
                "--results",
                str(results),
                "--output",
                str(tmp_path),
                "--no-chromium",
            ]
        )
        == 0
    )
    notes = (tmp_path / "T-1" / "NOTITIES.txt").read_text()
    assert "testrapport.html niet gemaakt" in notes
    assert "Node.js" in notes
    assert verify_manifest(tmp_path / "T-1") == []


def test_no_results_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dso_report(["--results", str(tmp_path / "none")]) == 1
    assert "no Allure results" in capsys.readouterr().out


def _embedded(page: str, name: str) -> str:
    """A data file the single-file report embeds as ``d("<name>","<base64>")``."""
    match = re.search(re.escape(f'd("{name}","') + r'([A-Za-z0-9+/=]+)"', page)
    assert match is not None, f"{name} is not embedded in the report"
    return base64.b64decode(match.group(1)).decode("utf-8")


def _allure_available() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    try:
        ensure_allure(install=False)
    except RenderUnavailable as exc:
        return f"the pinned allure package is not installed ({exc})"
    return None


@pytest.mark.skipif(_allure_available() is not None, reason=str(_allure_available()))
def test_single_file_html_report_without_analytics(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=TESTS)
    pytester.makefile(".toml", dso='[dso]\nticket = "R-1"\n')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)
    results = pytester.path / "reports" / "allure-results"
    out = pytester.path / "report.html"
    assert dso_report(["--results", str(results), "--output", str(out), "--strict"]) == 0
    page = out.read_text()
    assert "googletagmanager" not in page.lower()
    assert offline_problems(page) == []
    # One file that opens from file://: every script and stylesheet is inline or a data: URI.
    for match in re.finditer(
        r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)", page
    ):
        assert match.group(1).startswith(("data:", "#")), match.group(0)[:80]
    assert list(pytester.path.glob("report.html*")) == [out]
    # Titled with the environment, ticket and leverancier, not "Allure Report".
    title = "pytest-dso LOCAL (oefening), ticket R-1, leverancier TEST VTH-leverancier"
    assert f"<title>{title} (" in page
    assert json.loads(_embedded(page, "widgets/summary.json"))["reportName"].startswith(title)
    assert "Allure Report" not in page.split("</head>")[0]
    # The report honours our categories.json and environment.properties.
    categories = json.loads(_embedded(page, "widgets/categories.json"))
    names = {item["name"]: item["statistic"]["total"] for item in categories["items"]}
    assert names["Connectivity / TLS"] == 1
    environment = json.loads(_embedded(page, "widgets/environment.json"))
    assert {"name": "ticketnummer", "values": ["R-1"]} in environment

    code = dso_report(
        [
            "bundle",
            "--ticket",
            "R-1",
            "--results",
            str(results),
            "--output",
            str(pytester.path / "reports"),
            "--no-chromium",
            "--strict",
        ]
    )
    assert code == 0
    bundle = pytester.path / "reports" / "R-1"
    assert (bundle / "testrapport.html").stat().st_size > 100_000
    assert "googletagmanager" not in (bundle / "testrapport.html").read_text().lower()
    assert verify_manifest(bundle) == []
    assert not (pytester.path / "reports" / ".dso-report-staging.html").exists()
