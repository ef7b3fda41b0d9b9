"""The evidence as a reviewer sees it: the real Ping/Pong suite against the simulator, the
single-file HTML report opened offline in headless Chromium (driven by Playwright), and the
ticket bundle's PDF (A4, at most two pages a tenant).

Needs Debian's ``chromium`` (``.ci/run`` installs it), the Python ``playwright`` package (dev
extra) and the pinned allure npm package; skips with the reason when one is missing.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

from pytest_dso.cli.report import main as dso_report
from pytest_dso.evidence.bundle import CHROMIUM_FLAGS, find_chromium
from pytest_dso.evidence.render import RenderUnavailable, ensure_allure

ROOT = Path(__file__).parents[2]
#: A4 in PostScript points, with Chromium's rounding.
A4 = (595.0, 842.0)


@functools.cache
def _missing() -> str | None:
    # find_spec, not an import: every xdist worker collects this module, and importing
    # playwright costs a fifth of a second
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    try:
        ensure_allure(install=False)
    except RenderUnavailable as exc:
        return f"the report renderer is not available: {exc}"
    return None


#: CI installs Chromium (``.ci/run``): there a missing piece is a failure, not a skip.
pytestmark = pytest.mark.skipif(_missing() is not None and not os.environ.get("CI"),
                                reason=str(_missing()))


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (points) of every page of a PDF as Chromium writes it."""
    boxes = re.findall(rb"/Type\s*/Page\b[\s\S]*?/MediaBox\s*\[\s*([\d.\s-]+)\]", pdf)
    sizes = []
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        sizes.append((x1 - x0, y1 - y0))
    return sizes


def _test_case(page: str, name: str) -> dict[str, object]:
    for match in re.finditer(r'd\("data/test-cases/[^"]+\.json","([A-Za-z0-9+/=]+)"\)', page):
        data = json.loads(base64.b64decode(match.group(1)))
        if data.get("name") == name:
            return dict(data)
    raise AssertionError(f"{name} is not in the report")


@pytest.mark.slow
def test_report_and_bundle_as_a_reviewer_sees_them(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _missing()
    if missing is not None:
        pytest.fail(f"CI must be able to open the report in Chromium: {missing}")
    from playwright.sync_api import sync_playwright

    pytester.makepyfile(test_pingpong=(ROOT / "suites" / "test_pingpong.py").read_text())
    pytester.makefile(".toml", dso='[dso]\nticket = "REV-1"\n')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    reports = pytester.path / "reports"
    monkeypatch.delenv("DSO_CHROMIUM")  # the bundle below makes the PDF this test judges
    assert dso_report(["bundle", "--ticket", "REV-1", "--results",
                       str(reports / "allure-results"), "--output", str(reports),
                       "--strict"]) == 0
    bundle = reports / "REV-1"
    report = bundle / "testrapport.html"
    page_html = report.read_text(encoding="utf-8")
    case = _test_case(page_html, "test_ping_is_answered_with_a_pong")

    chromium = find_chromium()
    assert chromium is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{report.as_uri()}#testresult/{case['uid']}")
            page.get_by_text("ebMS Ping/Pong (async)").first.click()
            page.get_by_text("Ping → HTTP 204").first.click()
            page.get_by_text("MessageId").first.wait_for(timeout=15_000)
            text = page.inner_text("body")
            title = page.title()
        finally:
            browser.close()
    assert title.startswith("pytest-dso LOCAL (oefening), ticket REV-1")
    assert "CPAId" in text
    assert "TLS protocol" in text
    assert re.search(r"DSO-SIM-\S+", text), "the CPAId value is not shown"
    # Opened offline: nothing but the file itself and inline data was requested.
    outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert outside == []

    pdf = (bundle / "samenvatting.pdf").read_bytes()
    sizes = pdf_pages(pdf)
    assert sizes, "no pages found in the PDF"
    assert all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in sizes), sizes
    tenants = 3  # the simulator's default bevoegde gezagen
    assert len(sizes) <= 2 * tenants
    assert b"file://" not in pdf  # no browser header or footer with the page's address


def test_a_pre_bundle_gives_each_tenant_at_most_two_a4_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _missing()
    if missing is not None:
        pytest.fail(f"CI must be able to print the bundle with Chromium: {missing}")
    monkeypatch.delenv("DSO_CHROMIUM")  # this test judges the PDF the bundle prints
    from pytest_dso.evidence.bundle import build_bundle

    results = tmp_path / "allure-results"
    results.mkdir()
    tenants = [(f"000000010000000{n:05d}", f"Gemeente {n}") for n in range(1, 4)]
    (results / "environment.properties").write_text(
        "omgeving=PRE\nticketnummer=A4-1\nrun.id=r1\nleverancier=VTH BV (00000003000000000000)\n"
        + "".join(f"tenant.{i}={oin}|{name}|gemeente\n"
                  for i, (oin, name) in enumerate(tenants, 1)))
    count = 0

    def result(name: str, step: str, tenant: tuple[str, str] | None = None) -> None:
        nonlocal count
        count += 1
        labels = [{"name": "dso_step", "value": step}]
        if tenant:
            labels += [{"name": "tenant", "value": tenant[0]},
                       {"name": "tenant_name", "value": tenant[1]}]
        (results / f"{count}-result.json").write_text(json.dumps({
            "name": name, "fullName": f"suites.x#{name}", "status": "passed",
            "start": 1_700_000_000_000, "stop": 1_700_000_001_000, "historyId": str(count),
            "labels": labels}))

    for step in ("PRE 2.3", "PRE 2.5", "PRE 2.6"):
        for n in range(15):
            result(f"test_{step[-3:]}_{n}", step)
    for tenant in tenants:
        for step in ("PRE 3.2", "PRE 3.3", "PRE 4.1", "PRE 4.2"):
            result(f"test_{step[-3:]}[{tenant[0][-4:]}]", step, tenant)
    outcome = build_bundle(results, tmp_path / "out", "A4-1", render=False)
    folder = outcome.folder
    assert (folder / "samenvatting.png").read_bytes().startswith(b"\x89PNG")
    assert not [note for note in outcome.notes if "samenvatting." in note], outcome.notes
    sizes = pdf_pages((folder / "samenvatting.pdf").read_bytes())
    assert sizes, "no PDF pages"
    assert all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in sizes), sizes
    assert len(sizes) <= 2 * len(tenants), f"{len(sizes)} pages for {len(tenants)} tenants"
