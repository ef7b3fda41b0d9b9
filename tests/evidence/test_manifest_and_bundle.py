"""The ticket bundle (from hand-written Allure results) and its manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from pytest_dso.cli.report import main as dso_report
from pytest_dso.evidence.bundle import build_bundle, safe_ticket
from pytest_dso.evidence.manifest import MANIFEST_NAME, verify_manifest, write_manifest
from pytest_dso.evidence.redaction import Redactor
from pytest_dso.evidence.results import RunInfo, load_results, read_environment

GEMEENTE = ("00000001000000000001", "Gemeente Voorbeeld")
WATERSCHAP = ("00000001000000000002", "Waterschap Nat")


def _result(
    folder: Path,
    name: str,
    status: str,
    step: str | list[str] | None,
    tenant: tuple[str, str] | None = None,
    start: int = 1_700_000_000_000,
    verzoeknummer: str | None = None,
) -> None:
    labels = []
    for value in [step] if isinstance(step, str) else step or []:
        labels.append({"name": "dso_step", "value": value})
    if tenant:
        labels += [
            {"name": "tenant", "value": tenant[0]},
            {"name": "tenant_name", "value": tenant[1]},
        ]
    if verzoeknummer:
        labels.append({"name": "verzoeknummer", "value": verzoeknummer})
    data = {
        "name": name,
        "fullName": f"suites.test_x#{name}",
        "status": status,
        "start": start,
        "stop": start + 1500,
        "historyId": f"h-{name}",
        "labels": labels,
    }
    (folder / f"{name}-result.json").write_text(json.dumps(data))


def _environment(folder: Path, env: str) -> None:
    lines = [
        f"omgeving={env}",
        "ticketnummer=T-1",
        "leverancier=VTH BV (00000003000000000000)",
        f"tenant.1={GEMEENTE[0]}|{GEMEENTE[1]}|gemeente",
        f"tenant.2={WATERSCHAP[0]}|{WATERSCHAP[1]}|waterschap",
    ]
    (folder / "environment.properties").write_text("\n".join(lines) + "\n")


@pytest.fixture
def pre_results(tmp_path: Path) -> Path:
    folder = tmp_path / "allure-results"
    folder.mkdir()
    _environment(folder, "PRE")
    _result(folder, "test_certificaat", "passed", "PRE 2.2")
    _result(folder, "test_pingpong_gemeente", "passed", "PRE 2.6", GEMEENTE)
    _result(folder, "test_pingpong_waterschap", "failed", "PRE 2.6", WATERSCHAP)
    _result(folder, "test_trigger", "passed", "PRE 3.3", GEMEENTE)
    _result(folder, "test_ophalen", "passed", "PRE 4.1", GEMEENTE, verzoeknummer="1234567890123")
    _result(folder, "test_zonder_stap", "skipped", None)
    return folder


def test_results_are_read_back_one_per_test(pre_results: Path) -> None:
    retry = json.loads((pre_results / "test_trigger-result.json").read_text())
    retry["stop"] += 10_000
    retry["status"] = "failed"
    (pre_results / "retry-result.json").write_text(json.dumps(retry))
    outcomes = {o.name: o for o in load_results(pre_results)}
    assert len(outcomes) == 6
    assert outcomes["test_trigger"].status == "failed"  # the latest attempt wins
    assert outcomes["test_ophalen"].verzoeknummer == "1234567890123"
    assert outcomes["test_pingpong_waterschap"].tenant == WATERSCHAP[0]


def test_bundle_has_dutch_summary_progress_mails_and_a_manifest(
    pre_results: Path, tmp_path: Path
) -> None:
    outcome = build_bundle(
        pre_results, tmp_path / "reports", "T-1/2024", render=False, chromium=False
    )
    folder = outcome.folder
    assert folder == tmp_path / "reports" / "T-1-2024"
    assert set(outcome.files) >= {
        "samenvatting.md",
        "samenvatting.html",
        "voortgang-PRE.svg",
        "mails.txt",
        "uitkomsten.json",
        "omgeving.properties",
        "NOTITIES.txt",
        MANIFEST_NAME,
    }
    md = (folder / "samenvatting.md").read_text()
    assert "Omgeving**: PRE" in md
    assert f"{GEMEENTE[1]} (OIN {GEMEENTE[0]})" in md
    assert "PRE 2 Digikoppeling realiseren: aangetoond" in md  # for the gemeente
    assert "PRE 2 Digikoppeling realiseren: mislukt" in md  # for the waterschap
    assert "| PRE 4.1 | test_ophalen | geslaagd |" in md
    assert "1234567890123" in md
    assert "2023-11-14 22:13:20 UTC" in md  # the start time of the tests
    mails = (folder / "mails.txt").read_text()
    assert "Onderwerp: T-1/2024: pingpong geslaagd" in mails
    assert "Onderwerp: T-1/2024: ophalen vergunning gereed." in mails
    assert "Nog niet versturen" in mails  # the waterschap's ping-pong failed
    assert "ping pong test" not in mails  # PROD mails only for PROD runs
    # The picture: well-formed SVG, 4 PRE parts for each of the 2 tenants, in three colours.
    svg = etree.fromstring((folder / "voortgang-PRE.svg").read_bytes())
    boxes = svg.findall("{http://www.w3.org/2000/svg}rect[@rx]")
    assert len(boxes) == 8
    fills = [b.get("fill") for b in boxes]
    assert fills[:4] == ["#9e9e9e", "#2e7d32", "#2e7d32", "#2e7d32"]  # gemeente
    assert fills[5] == "#c62828"  # waterschap, part 2
    page = (folder / "samenvatting.html").read_text()
    assert "<svg" in page
    assert "<script" not in page
    assert "Geen PNG/PDF" not in (folder / "NOTITIES.txt").read_text()  # chromium=False
    assert verify_manifest(folder) == []


def test_prod_bundle_proposes_the_prod_mails(tmp_path: Path) -> None:
    folder = tmp_path / "res"
    folder.mkdir()
    _environment(folder, "PROD")
    _result(folder, "test_pingpong", "passed", "PROD 3")
    _result(folder, "test_trigger", "passed", "PROD 5")
    _result(folder, "test_ophalen", "passed", "PROD 6", verzoeknummer="9999999999999")
    outcome = build_bundle(folder, tmp_path / "out", "P-7", render=False, chromium=False)
    mails = (outcome.folder / "mails.txt").read_text()
    assert "Onderwerp: P-7: ping pong test" in mails
    assert "Onderwerp: P-7: verzoek ophalen gereed" in mails
    assert "verzoeknummer 9999999999999" in mails
    assert "pingpong geslaagd" not in mails
    svg = etree.fromstring((outcome.folder / "voortgang-PROD.svg").read_bytes())
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect[@rx]")) == 14  # 7 steps x 2


def test_bundle_notes_when_no_chromium_and_redacts(pre_results: Path, tmp_path: Path) -> None:
    env = (pre_results / "environment.properties").read_text()
    (pre_results / "environment.properties").write_text(env + "leverancier=SECRET-LEV-NAME\n")
    outcome = build_bundle(
        pre_results,
        tmp_path,
        "T-2",
        render=False,
        chromium=None,
        redactor=Redactor(["SECRET-LEV-NAME"]),
    )
    assert "SECRET-LEV-NAME" not in (outcome.folder / "samenvatting.md").read_text()
    assert "SECRET-LEV-NAME" not in (outcome.folder / "mails.txt").read_text()


def test_bundle_refuses_to_overwrite_a_foreign_folder(pre_results: Path, tmp_path: Path) -> None:
    (tmp_path / "T-3").mkdir()
    (tmp_path / "T-3" / "mine.txt").write_text("not evidence")
    with pytest.raises(ValueError, match="not a pytest-dso bundle"):
        build_bundle(pre_results, tmp_path, "T-3", render=False, chromium=False)
    # A previous bundle is replaced.
    build_bundle(pre_results, tmp_path, "T-4", render=False, chromium=False)
    again = build_bundle(pre_results, tmp_path, "T-4", render=False, chromium=False)
    assert verify_manifest(again.folder) == []


def test_safe_ticket() -> None:
    assert safe_ticket(" DSO/123 456 ") == "DSO-123-456"
    with pytest.raises(ValueError, match="no usable folder name"):
        safe_ticket("../..")


def test_manifest_detects_tampering(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    manifest = write_manifest(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{64}  a\.txt\n[0-9a-f]{64}  sub/b\.txt\n", manifest.read_text())
    assert verify_manifest(tmp_path) == []
    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "sub" / "b.txt").unlink()
    (tmp_path / "extra.txt").write_text("x")
    with manifest.open("a") as handle:
        handle.write("0000  ../etc/passwd\n")
    problems = {str(p) for p in verify_manifest(tmp_path)}
    assert problems == {
        "a.txt: changed since the manifest was written",
        "sub/b.txt: listed in the manifest but missing",
        "extra.txt: not listed in the manifest (added later?)",
        f"{MANIFEST_NAME}:3: malformed line",
    }


def test_dso_report_verify_exit_codes(
    pre_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = build_bundle(pre_results, tmp_path, "T-5", render=False, chromium=False).folder
    assert dso_report(["verify", str(folder)]) == 0
    (folder / "samenvatting.md").write_text("changed")
    assert dso_report(["verify", str(folder)]) == 1
    assert "samenvatting.md: changed since the manifest was written" in capsys.readouterr().out
    assert dso_report(["verify", str(tmp_path / "missing")]) == 2


def test_environment_properties_round_trip(tmp_path: Path) -> None:
    from pytest_dso.evidence.results import write_environment

    props = {
        "a key": "x=1: y # z",
        "multi": "line1\nline2",
        "lead": " spaced",
        "naam": "Súdwest-Fryslân",
    }
    write_environment(tmp_path, props, Redactor())
    assert read_environment(tmp_path) == props
    assert RunInfo().run_id != RunInfo().run_id


def test_a_test_labelled_for_pre_and_prod_proves_only_the_runs_environment(
    tmp_path: Path,
) -> None:
    for order, name in ((["PROD 6", "PRE 4.1"], "a"), (["PRE 4.1", "PROD 6"], "b")):
        folder = tmp_path / name
        folder.mkdir()
        _environment(folder, "PRE")
        _result(folder, "test_ophalen", "passed", order, GEMEENTE)
        (outcome,) = load_results(folder)
        assert outcome.steps == ("PRE 4.1", "PROD 6")
        bundle = build_bundle(folder, tmp_path / f"out-{name}", "M-1", render=False, chromium=False)
        md = (bundle.folder / "samenvatting.md").read_text()
        assert "PRE 4 Vergunningaanvraag ophalen: aangetoond" in md
        assert "PROD 6 Verzoek ophalen" not in md
        assert "| PRE 4.1, PROD 6 | test_ophalen | geslaagd |" in md
