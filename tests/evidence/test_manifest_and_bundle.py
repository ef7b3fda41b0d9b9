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
    proofs: tuple[str, ...] = (),
) -> None:
    labels = [{"name": "dso_proof", "value": value} for value in proofs]
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


def _props(folder: Path, **extra: str) -> None:
    text = (folder / "environment.properties").read_text()
    lines = [f"{k}={v}" for k, v in extra.items()]
    (folder / "environment.properties").write_text(text + "\n".join(lines) + "\n")


@pytest.fixture
def pre_results(tmp_path: Path) -> Path:
    folder = tmp_path / "allure-results"
    folder.mkdir()
    _environment(folder, "PRE")
    _props(folder, **{"run.id": "run-a", "basis-url.afhandelen": "https://pre.example.nl/afh"})
    for step in ("PRE 2.3", "PRE 2.4", "PRE 2.5", "PRE 2.6"):
        _result(folder, f"test_{step[-3:]}", "passed", step)
    _result(folder, "test_ingediend_gemeente", "passed", "PRE 3.2", GEMEENTE)
    _result(folder, "test_trigger_gemeente", "passed", "PRE 3.3", GEMEENTE)
    _result(folder, "test_ophalen_gemeente", "passed", "PRE 4.1", GEMEENTE,
            verzoeknummer="1234567890123")
    _result(folder, "test_ingediend_waterschap", "passed", "PRE 3.2", WATERSCHAP)
    _result(folder, "test_trigger_waterschap", "failed", "PRE 3.3", WATERSCHAP)
    _result(folder, "test_prod_only", "passed", "PROD 6", GEMEENTE)
    _result(folder, "test_zonder_stap", "passed", None)
    return folder


def _section(md: str, heading: str) -> str:
    """The Markdown of one ``## heading`` section."""
    part = md.split(f"## {heading}", 1)[1]
    return part.split("\n## ", 1)[0]


def test_results_are_read_back_one_per_test(pre_results: Path) -> None:
    retry = json.loads((pre_results / "test_trigger_gemeente-result.json").read_text())
    retry["stop"] += 10_000
    retry["status"] = "failed"
    (pre_results / "retry-result.json").write_text(json.dumps(retry))
    outcomes = {o.name: o for o in load_results(pre_results)}
    assert len(outcomes) == 11
    assert outcomes["test_trigger_gemeente"].status == "failed"  # the latest attempt wins
    assert outcomes["test_ophalen_gemeente"].verzoeknummer == "1234567890123"
    assert outcomes["test_trigger_waterschap"].tenant == WATERSCHAP[0]


def test_pre_bundle_claims_only_what_was_proven(pre_results: Path, tmp_path: Path) -> None:
    outcome = build_bundle(
        pre_results, tmp_path / "reports", "T-1/2024", render=False, chromium=False
    )
    folder = outcome.folder
    assert folder == tmp_path / "reports" / "T-1-2024"
    assert outcome.rehearsal == ""
    assert set(outcome.files) >= {
        "samenvatting.md", "samenvatting.html", "voortgang-PRE.svg", "mails.txt",
        "uitkomsten.json", "omgeving.properties", "NOTITIES.txt", "run.json", MANIFEST_NAME,
    }
    md = (folder / "samenvatting.md").read_text()
    assert "OEFENING" not in md
    assert "Omgeving**: PRE" in md
    gemeente = _section(md, f"{GEMEENTE[1]} (OIN {GEMEENTE[0]})")
    waterschap = _section(md, f"{WATERSCHAP[1]} (OIN {WATERSCHAP[0]})")
    # all automated steps of part 2 passed; part 4 waits for the screenshot (4.2)
    assert "PRE 2 Digikoppeling realiseren: aangetoond" in gemeente
    assert "PRE 3 Triggerbericht ontvangen: aangetoond" in gemeente
    assert "PRE 4 Vergunningaanvraag ophalen en gereedmelden: wacht op u" in gemeente
    assert "PRE 3 Triggerbericht ontvangen: mislukt" in waterschap
    assert "dso-report add-screenshot" in gemeente
    # each tenant's section holds its own rows only; shared steps once; PRE rows only
    assert "test_trigger_gemeente" in gemeente
    assert "waterschap" not in gemeente.lower()
    assert "test_trigger_waterschap" in waterschap
    assert "_gemeente" not in waterschap
    assert md.count("| PRE 2.6 | test_2.6 |") == 1
    assert "test_prod_only" not in md
    assert "PROD 6" not in md
    assert "2 andere tests" in md
    assert "1234567890123" in gemeente
    mails = (folder / "mails.txt").read_text()
    ping, ophalen = mails.split("Aan: dso-beheer@rws.nl")[1:]
    assert "Onderwerp: T-1/2024: pingpong geslaagd\n[Klaar om te versturen.]" in ping
    assert "Onderwerp: T-1/2024: ophalen vergunning gereed." in ophalen
    assert "NIET versturen" in ophalen
    assert "PRE 3.3" in ophalen
    assert "PRE 4.2" in ophalen
    assert "CONCEPT, NOG NIET VERSTUREN" in ophalen
    # a mail never contradicts its own table
    assert f"PRE 3.3 Triggerbericht checken voor {WATERSCHAP[1]} (OIN {WATERSCHAP[0]}): " \
        "mislukt" in ophalen
    assert "ping pong test" not in mails  # PROD mails only for PROD runs
    svg = etree.fromstring((folder / "voortgang-PRE.svg").read_bytes())
    fills = [b.get("fill") for b in svg.findall("{http://www.w3.org/2000/svg}rect[@rx]")]
    assert fills == ["#b26a00", "#2e7d32", "#2e7d32", "#b26a00",  # gemeente
                     "#b26a00", "#2e7d32", "#c62828", "#757575"]  # waterschap
    page = (folder / "samenvatting.html").read_text()
    assert "<svg" in page
    assert "<script" not in page
    assert "@page{size:A4" in page
    records = json.loads((folder / "uitkomsten.json").read_text())
    assert {r["naam"] for r in records} >= {"test_2.6", "test_trigger_waterschap"}
    assert "test_prod_only" not in {r["naam"] for r in records}
    status = json.loads((folder / "run.json").read_text())
    assert status["stappen"][f"PRE 3.3 {WATERSCHAP[0]}"] == "mislukt"
    assert verify_manifest(folder) == []


def test_each_proven_step_shows_its_proof_in_the_summary_and_the_mails(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "allure-results"
    folder.mkdir()
    _environment(folder, "PRE")
    _props(folder, **{"run.id": "run-p", "basis-url.afhandelen": "https://pre.example.nl/afh"})
    for step in ("PRE 2.3", "PRE 2.4", "PRE 2.5"):
        _result(folder, f"test_{step[-3:]}", "passed", step)
    _result(folder, "test_ping", "passed", "PRE 2.6",
            proofs=("CPAId DSO_Ping_1", "Ping MessageId m-1@vth"))
    _result(folder, "test_ping_again", "passed", "PRE 2.6",
            proofs=("CPAId DSO_Ping_1", "Ping MessageId m-2@vth"))
    _result(folder, "test_ophalen_gemeente", "passed", "PRE 4.1", GEMEENTE,
            verzoeknummer="1234567890123", proofs=("STAM-XML sha256 " + "a" * 64,))
    _result(folder, "test_ophalen_waterschap", "failed", "PRE 4.1", WATERSCHAP,
            verzoeknummer="2234567890123", proofs=("STAM-XML sha256 " + "b" * 64,))
    _result(folder, "test_many", "passed", "PRE 3.2", GEMEENTE,
            proofs=tuple(f"bijlage {n} sha256 {n * 64}" for n in "cdefg"))
    bundle = build_bundle(folder, tmp_path / "reports", "T-9", render=False, chromium=False)
    md = (bundle.folder / "samenvatting.md").read_text()
    shared = _section(md, "Gedeelde stappen (PRE)")
    ping_row = next(line for line in shared.splitlines() if line.startswith("| PRE 2.6 "))
    assert "aangetoond" in ping_row
    assert "bewijs: CPAId DSO_Ping_1; Ping MessageId m-1@vth; Ping MessageId m-2@vth" in ping_row
    gemeente = _section(md, f"{GEMEENTE[1]} (OIN {GEMEENTE[0]})")
    row = next(line for line in gemeente.splitlines() if line.startswith("| PRE 4.1 "))
    assert f"bewijs: verzoeknummer 1234567890123; STAM-XML sha256 {'a' * 64}" in row
    many = next(line for line in gemeente.splitlines() if line.startswith("| PRE 3.2 "))
    assert "en 2 meer in het rapport" in many
    assert "g" * 64 not in many
    waterschap = _section(md, f"{WATERSCHAP[1]} (OIN {WATERSCHAP[0]})")
    failed = next(line for line in waterschap.splitlines() if line.startswith("| PRE 4.1 "))
    assert "mislukt" in failed
    assert "b" * 64 not in failed  # a failed step claims no proof
    mails = (bundle.folder / "mails.txt").read_text()
    ping_mail, ophalen_mail = mails.split("Aan: dso-beheer@rws.nl")[1:]
    assert ("PRE 2.6 Technisch testen (Ping/Pong): aangetoond (CPAId DSO_Ping_1; "
            "Ping MessageId m-1@vth; Ping MessageId m-2@vth)") in ping_mail
    line = next(x for x in ophalen_mail.splitlines()
                if x.startswith("- PRE 4.1") and GEMEENTE[0] in x)
    assert line.endswith(f"aangetoond (verzoeknummer 1234567890123; STAM-XML sha256 {'a' * 64})")
    other = next(x for x in ophalen_mail.splitlines()
                 if x.startswith("- PRE 4.1") and WATERSCHAP[0] in x)
    assert other.endswith(": mislukt")
    # the HTML summary carries the same proof, and long hashes wrap inside their cell
    page = (bundle.folder / "samenvatting.html").read_text()
    assert "bewijs: CPAId DSO_Ping_1" in page
    assert "overflow-wrap:anywhere" in page


def test_a_part_is_not_proven_while_one_automated_step_is_open(
    pre_results: Path, tmp_path: Path
) -> None:
    (pre_results / "test_2.4-result.json").unlink()
    folder = build_bundle(pre_results, tmp_path, "T-6", render=False, chromium=False).folder
    md = (folder / "samenvatting.md").read_text()
    assert "PRE 2 Digikoppeling realiseren: niet aangetoond" in md
    assert "PRE 2 Digikoppeling realiseren: aangetoond" not in md
    assert "[NIET versturen: nog niet aangetoond: PRE 2.4.]" in (folder / "mails.txt").read_text()


def test_a_screenshot_proves_4_2_and_is_kept(
    pre_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pre_results / "test_trigger_waterschap-result.json").unlink()
    _result(pre_results, "test_trigger_waterschap", "passed", "PRE 3.3", WATERSCHAP)
    _result(pre_results, "test_ophalen_waterschap", "passed", "PRE 4.1", WATERSCHAP)
    out = tmp_path / "out"
    build_bundle(pre_results, out, "T-7", render=False, chromium=False)
    image = tmp_path / "vth.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    common = ["add-screenshot", "--results", str(pre_results), "--output", str(out),
              "--ticket", "T-7", "--step", "PRE 4.2"]
    assert dso_report([*common, "--tenant", GEMEENTE[0], str(image)]) == 0
    mails = (out / "T-7" / "mails.txt").read_text()
    assert "[NIET versturen: nog niet aangetoond: PRE 4.2.]" in mails  # waterschap still open
    assert dso_report([*common, "--tenant", WATERSCHAP[0], str(image)]) == 0
    folder = out / "T-7"
    mails = (folder / "mails.txt").read_text()
    assert mails.count("[Klaar om te versturen.]") == 2
    md = (folder / "samenvatting.md").read_text()
    assert "PRE 4 Vergunningaanvraag ophalen en gereedmelden: aangetoond" in md
    assert f"schermafdruk toegevoegd: schermafdrukken/PRE-4.2-{GEMEENTE[0]}.png" in md
    assert verify_manifest(folder) == []
    # kept across a rebuild
    build_bundle(pre_results, out, "T-7", render=False, chromium=False)
    assert (folder / "mails.txt").read_text().count("[Klaar om te versturen.]") == 2
    assert dso_report([*common[:-1], "PRE 2.6", str(image)]) == 2
    assert "a screenshot proves only PRE 4.2, PROD 7" in capsys.readouterr().out


@pytest.mark.parametrize(("name", "content", "said"), [
    ("vth.png", b"not a picture\n", "vth.png is not a PNG file (its content does not begin"),
    ("vth.png", b"", "vth.png is not a PNG file (it is empty)"),
    ("vth.png", b"\xff\xd8\xff\xe0 jfif", "vth.png holds a JPEG file, not a PNG"),
    ("vth.pdf", b"\x89PNG\r\n\x1a\n...", "vth.pdf holds a PNG file, not a PDF"),
])
def test_a_screenshot_must_hold_what_its_name_says(
    pre_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
    content: bytes, said: str
) -> None:
    out = tmp_path / "out"
    build_bundle(pre_results, out, "T-8", render=False, chromium=False)
    image = tmp_path / name
    image.write_bytes(content)
    assert dso_report(["add-screenshot", "--results", str(pre_results), "--output", str(out),
                       "--ticket", "T-8", "--step", "PRE 4.2", "--tenant", GEMEENTE[0],
                       str(image)]) == 2
    shown = capsys.readouterr()
    assert said in shown.out + shown.err
    assert not (out / "T-8" / "schermafdrukken").exists()


def test_a_local_run_is_an_oefening_on_every_page(pre_results: Path, tmp_path: Path) -> None:
    _environment(pre_results, "LOCAL")
    folder = build_bundle(pre_results, tmp_path, "L-1", render=False, chromium=False).folder
    md = (folder / "samenvatting.md").read_text()
    assert md.count("OEFENING: geen bewijs voor DSO-Beheer") == 4  # top, 2 tenants, mails
    mails = (folder / "mails.txt").read_text()
    assert mails.startswith("[OEFENING")
    assert "Klaar om te versturen" not in mails
    assert mails.count("[NIET versturen: dit is een oefening") == 2
    assert "aangetoond" not in _section(md, f"{GEMEENTE[1]} (OIN {GEMEENTE[0]})").split("|")[0]
    page = (folder / "samenvatting.html").read_text()
    assert '<div class="banner">OEFENING' in page  # position:fixed: on every printed page


def test_loopback_urls_and_test_oins_make_a_rehearsal(pre_results: Path, tmp_path: Path) -> None:
    _props(pre_results, **{"basis-url.indienen": "https://127.0.0.1:8443/indienen",
                           "certificaat.geaccepteerde_roots": "AB:CD"})
    (pre_results / "environment.properties").write_text(
        (pre_results / "environment.properties").read_text().replace(
            GEMEENTE[0], "00000099000000101000"))
    outcome = build_bundle(pre_results, tmp_path, "R-1", render=False, chromium=False)
    assert "loopback-adressen: https://127.0.0.1:8443/indienen" in outcome.rehearsal
    assert "test-OIN's: 00000099000000101000" in outcome.rehearsal
    md = (outcome.folder / "samenvatting.md").read_text()
    assert "Extra geaccepteerde roots (sha256)**: AB:CD" in md
    assert "Klaar om te versturen" not in (outcome.folder / "mails.txt").read_text()


def test_a_rerun_keeps_the_previous_bundle_in_its_history(
    pre_results: Path, tmp_path: Path
) -> None:
    first = build_bundle(pre_results, tmp_path, "H-1", render=False, chromium=False)
    again = build_bundle(pre_results, tmp_path, "H-1", render=False, chromium=False)
    assert again.archived is None  # the same run: rebuilt in place
    (pre_results / "environment.properties").write_text(
        (pre_results / "environment.properties").read_text().replace("run-a", "run-b"))
    (pre_results / "test_2.6-result.json").unlink()  # a partial rerun
    third = build_bundle(pre_results, tmp_path, "H-1", render=False, chromium=False)
    assert third.archived == first.folder / "historie" / "run-a"
    assert "| PRE 2.6 | test_2.6 |" not in (third.folder / "samenvatting.md").read_text()
    old = (third.archived / "samenvatting.md").read_text()
    assert "| PRE 2.6 | test_2.6 |" in old
    assert "Eerdere runs (in historie/)**: run-a" in (third.folder / "samenvatting.md").read_text()
    assert verify_manifest(third.folder) == []


def test_prod_bundle_proposes_the_prod_mails(tmp_path: Path) -> None:
    folder = tmp_path / "res"
    folder.mkdir()
    _environment(folder, "PROD")
    _result(folder, "test_pingpong", "passed", "PROD 3")
    _result(folder, "test_trigger", "passed", "PROD 5", GEMEENTE)
    _result(folder, "test_ophalen", "passed", "PROD 6", GEMEENTE, verzoeknummer="9999999999999")
    _result(folder, "test_pre_only", "passed", "PRE 2.6")
    outcome = build_bundle(folder, tmp_path / "out", "P-7", render=False, chromium=False)
    mails = (outcome.folder / "mails.txt").read_text()
    assert "Onderwerp: P-7: ping pong test\n[Klaar om te versturen.]" in mails
    assert "Onderwerp: P-7: verzoek ophalen gereed" in mails
    assert "Verzoeknummer(s): 9999999999999" in mails
    assert "pingpong geslaagd" not in mails
    assert "test_pre_only" not in (outcome.folder / "samenvatting.md").read_text()
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


#: A stand-in Chromium: logs its command line; writes the files its mode says ("both": the
#: current headless mode; "first": the old one, only the first of --screenshot/--print-to-pdf;
#: "none": nothing).
FAKE_CHROMIUM = """#!/bin/sh
echo "$*" >> "$0.log"
shot=; pdf=
for arg in "$@"; do
  case "$arg" in
    --screenshot=*) shot="${arg#--screenshot=}" ;;
    --print-to-pdf=*) pdf="${arg#--print-to-pdf=}" ;;
  esac
done
case "%s" in
  both) [ -n "$shot" ] && echo png > "$shot"; [ -n "$pdf" ] && echo pdf > "$pdf" ;;
  first) if [ -n "$shot" ]; then echo png > "$shot"
         elif [ -n "$pdf" ]; then echo pdf > "$pdf"; fi ;;
esac
exit 0
"""


@pytest.mark.parametrize(("mode", "starts", "missing"), [
    ("both", 1, []),
    ("first", 2, []),
    ("none", 2, ["samenvatting.png", "samenvatting.pdf"]),
])
def test_chromium_makes_png_and_pdf_in_one_start_where_it_can(
    pre_results: Path, tmp_path: Path, mode: str, starts: int, missing: list[str]
) -> None:
    binary = tmp_path / "chromium"
    binary.write_text(FAKE_CHROMIUM % mode)
    binary.chmod(0o755)
    outcome = build_bundle(pre_results, tmp_path / "out", "C-1", render=False,
                           chromium=str(binary))
    runs = (tmp_path / "chromium.log").read_text().splitlines()
    assert len(runs) == starts
    assert all("--headless" in run and run.endswith("samenvatting.html") for run in runs)
    assert "--screenshot=" in runs[0]
    assert "--print-to-pdf=" in runs[0]
    made = [name for name in ("samenvatting.png", "samenvatting.pdf")
            if (outcome.folder / name).is_file()]
    assert made == [name for name in ("samenvatting.png", "samenvatting.pdf")
                    if name not in missing]
    assert [n for n in outcome.notes if n.startswith("samenvatting.")] == [
        f"{name} niet gemaakt: {binary} schreef geen bestand" for name in missing]
    assert verify_manifest(outcome.folder) == []


def test_bundle_refuses_to_overwrite_a_foreign_folder(pre_results: Path, tmp_path: Path) -> None:
    (tmp_path / "T-3").mkdir()
    (tmp_path / "T-3" / "mine.txt").write_text("not evidence")
    with pytest.raises(ValueError, match="not a pytest-dso bundle"):
        build_bundle(pre_results, tmp_path, "T-3", render=False, chromium=False)


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
        assert "PRE 4.1 Ophalen testen | leverancier of Digikoppelaar | aangetoond" in md
        assert "PROD 6" not in md
        assert "| PRE 4.1 | test_ophalen | geslaagd |" in md
