"""The evidence plugin end to end (pytester subprocess runs): no secret reaches any output,
the results folder holds what Allure needs, labels come from markers, the ticket bundle is
written and xdist gives the same report."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.cli.report import main as dso_report
from pytest_dso.evidence.manifest import verify_manifest
from pytest_dso.evidence.redaction import find_secrets
from pytest_dso.evidence.results import load_results, read_environment
from pytest_dso.pkio.testpki import TestPki

PASSPHRASE = "Corr3ct-Horse!battery"
API_KEY = "apikey-5f1e2d3c4b5a6978"
BSN = "123456782"
HOOK_SECRET = "ACME-INTERNAL-42"

LEAKY_TESTS = """
import logging
import os

import pytest

from pytest_dso.evidence.httpexchange import RecordedExchange
from pytest_dso.tenants import Tenant

PEM = open(os.environ["KEY_FILE"]).read()
TENANTS = [
    Tenant("00000001000000000001", "Gemeente Een", "gemeente"),
    Tenant("00000001000000000002", "Waterschap Twee", "waterschap"),
]


@pytest.mark.dso_step("PRE 2.6")
@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.oin[-4:])
def test_pingpong(tenant, dso_evidence):
    key = os.environ["API_KEY"]
    dso_evidence.attach_exchange(
        RecordedExchange(
            "POST",
            "https://adapter.example/ebms?token=" + key,
            (("Authorization", "Bearer " + key), ("Content-Type", "text/xml")),
            "<ping/>",
            200,
            "OK",
            (),
            "<pong/>",
        )
    )
    logging.getLogger("dso").warning("using passphrase %s", os.environ["MY_PASSPHRASE"])
    print("api key", key, "internal", "ACME-INTERNAL-42")


@pytest.mark.dso_step("PRE 4.1")
def test_ophalen(dso_evidence):
    dso_evidence.attach_stam("<verzoek><bsn>123456782</bsn></verzoek>")
    dso_evidence.verzoeknummer("1234567890123")
    xml = "<verzoek><aanvrager><bsn>123456782</bsn></aanvrager></verzoek>"
    assert xml == "", "passphrase " + os.environ["MY_PASSPHRASE"]


def test_key_in_assertion():
    key = PEM
    assert key == "expected", f"the key was {key}"


def test_secret_in_exception():
    raise RuntimeError("connect failed for Authorization: Bearer " + os.environ["API_KEY"])


def test_simulator_key(dso_sim, dso_evidence):
    key = dso_sim.api_key
    with open(os.environ["SIM_KEY_FILE"], "w") as handle:  # outside reports/: for the check
        handle.write(key)
    print("simulator x-api-key", key)
    logging.getLogger("dso").warning("simulator key %s", key)
    dso_evidence.attach_text("x-api-key=" + key + " and " + key, "leak")
    assert key == "", f"the simulator key {key}"
"""

CONFTEST = """
def pytest_dso_redactor(config):
    return lambda text: text.replace("ACME-INTERNAL-42", "[acme]")
"""


@pytest.fixture
def key_material(dso_test_pki: TestPki, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A real client certificate and its private key, encrypted with the passphrase."""
    identity = dso_test_pki.identity("digikoppelaar")
    cert = tmp_path / "client.pem"
    key = tmp_path / "client.key"
    cert.write_bytes(identity.chain_pem())
    pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    key.write_bytes(pem)
    lines = [line for line in pem.decode().splitlines() if not line.startswith("-----")]
    return cert, key, lines


def _dso_toml(pytester: pytest.Pytester, cert: Path, key: Path, extra: str = "") -> None:
    pytester.makefile(
        ".toml",
        dso=f"""
[dso]
ticket = "TCK-9"
{extra}

[certificate]
cert = "{cert}"
key = "{key}"
passphrase_env = "MY_PASSPHRASE"

[api]
api_key_env = "API_KEY"
""",
    )


def _renderer_available() -> bool:
    from pytest_dso.evidence.render import RenderUnavailable, ensure_allure

    try:
        ensure_allure(install=False)
    except RenderUnavailable:
        return False
    return True


def _all_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _plant_secrets(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    key_material: tuple[Path, Path, list[str]],
) -> tuple[list[str], Path]:
    """A dso.toml and conftest whose run knows a passphrase, an API key and a private key
    (and writes the simulator's key to a file): the lines of the key and that file."""
    cert, key, key_lines = key_material
    monkeypatch.setenv("MY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("API_KEY", API_KEY)
    monkeypatch.setenv("KEY_FILE", str(key))
    sim_key_file = pytester.path / "simkey.txt"
    monkeypatch.setenv("SIM_KEY_FILE", str(sim_key_file))
    _dso_toml(pytester, cert, key)
    pytester.makeconftest(CONFTEST)
    return key_lines, sim_key_file


def test_no_secret_reaches_any_output(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    key_material: tuple[Path, Path, list[str]],
    dso_test_pki: TestPki,
) -> None:
    key_lines, sim_key_file = _plant_secrets(pytester, monkeypatch, key_material)
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest(
        "--junitxml=reports/junit.xml", "--log-file=reports/run.log", "-l", "-rA",
        "-p", "no:cacheprovider",
    )
    result.assert_outcomes(passed=2, failed=4)
    reports = pytester.path / "reports"
    html = reports / "report.html"
    dso_report(["--results", str(reports / "allure-results"), "--output", str(html),
                "--no-install"])
    if _renderer_available():
        assert html.is_file(), "the HTML report was not rendered"
    if html.is_file():
        # the single-file report embeds results and attachments as base64: decode them too
        page = html.read_text()
        decoded = [base64.b64decode(m) for m in re.findall(r'd\("[^"]+","([A-Za-z0-9+/=]+)"\)',
                                                            page)]
        (reports / "report-decoded.bin").write_bytes(b"\n".join(decoded))
    files = _all_files(reports)
    assert reports / "junit.xml" in files
    assert reports / "run.log" in files
    sim_key = sim_key_file.read_text()
    assert len(sim_key) >= 16
    secrets = [PASSPHRASE, API_KEY, BSN, HOOK_SECRET, sim_key, *key_lines]
    output = result.stdout.str() + result.stderr.str()
    for secret in secrets:
        assert secret not in output
        leaks = [p.name for p in files if secret.encode() in p.read_bytes()]
        assert leaks == [], f"a secret leaked into {leaks}"
    # The redaction is visible, not silent: the failures still say what happened.
    assert "[REDACTED]" in output
    assert "[REDACTED PRIVATE KEY]" in output
    junit = (reports / "junit.xml").read_text()
    assert "connect failed for Authorization: [REDACTED]" in junit

    results = reports / "allure-results"
    names = {p.name for p in results.iterdir()}
    assert {"environment.properties", "executor.json", "categories.json"} <= names
    assert not any(n.endswith(".tmp") for n in names)
    for path in [*results.glob("*.json"), *results.glob("*.httpexchange")]:
        json.loads(path.read_text())  # redaction kept every JSON file well-formed
    props = read_environment(results)
    assert props["omgeving"] == "LOCAL"
    assert props["ticketnummer"] == "TCK-9"
    assert props["certificaat.sha256"] == dso_test_pki.identity("digikoppelaar").fingerprint_sha256
    assert props["certificaat.subject"] == dso_test_pki.identity("digikoppelaar").subject
    categories = json.loads((results / "categories.json").read_text())
    assert [c["name"] for c in categories] == [
        "Timeout",
        "Connectivity / TLS",
        "Certificate",
        "Configuration",
        "Conformance",
    ]
    outcomes = load_results(results)
    assert len(outcomes) == 6
    steps = sorted((o.name, o.step, o.tenant, o.env) for o in outcomes if o.step)
    assert steps == [
        ("test_ophalen", "PRE 4.1", None, "local"),
        ("test_pingpong[0001]", "PRE 2.6", "00000001000000000001", "local"),
        ("test_pingpong[0002]", "PRE 2.6", "00000001000000000002", "local"),
    ]
    # Labels from the one aansluitproces model; readable parameters; run.start before tests.
    raw = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    ping = next(r for r in raw if r["name"] == "test_pingpong[0001]")
    labels = {(label["name"], label["value"]) for label in ping["labels"]}
    assert {("epic", "Aansluitproces STAM PRE"), ("feature", "PRE 2 Digikoppeling realiseren"),
            ("story", "PRE 2.6 Technisch testen (Ping/Pong)"),
            ("tenant", "00000001000000000001"), ("tenant_name", "Gemeente Een")} <= labels
    started = dt.datetime.fromisoformat(props["run.start"]).timestamp() * 1000
    assert started <= min(r["start"] for r in raw)
    exchanges = list(results.glob("*.httpexchange"))
    assert len(exchanges) == 2
    doc = json.loads(exchanges[0].read_text())
    assert doc["schemaVersion"] == 1
    assert {"name": "Authorization", "value": "__ALLURE_REDACTED__"} in doc["request"]["headers"]

    bundle = reports / "TCK-9"
    assert verify_manifest(bundle) == []
    summary = (bundle / "samenvatting.md").read_text()
    assert "Gemeente Een (OIN 00000001000000000001)" in summary
    assert "1234567890123" in summary
    result.stdout.fnmatch_lines(["*dso evidence*", "ticket bundle: *TCK-9"])


@pytest.mark.parametrize("capture", ["-s", "--capture=tee-sys"])
def test_no_secret_reaches_the_terminal_with_capture_off(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    key_material: tuple[Path, Path, list[str]],
    capture: str,
) -> None:
    """With capture off a test's print goes straight to the terminal: it is redacted too."""
    key_lines, sim_key_file = _plant_secrets(pytester, monkeypatch, key_material)
    pytester.makepyfile(test_leaky=LEAKY_TESTS, test_prints="""
import os
import sys


def test_prints_in_pieces():
    print("passphrase", os.environ["MY_PASSPHRASE"], "and key", os.environ["API_KEY"])
    sys.stdout.write("api key in parts: " + os.environ["API_KEY"][:7])
    sys.stdout.write(os.environ["API_KEY"][7:] + "\\n")
    print("on stderr:", os.environ["MY_PASSPHRASE"], file=sys.stderr)
    print(open(os.environ["KEY_FILE"]).read())
""")
    full = capture == "-s"  # tee-sys: the prints only (the simulator run costs seconds)
    result = pytester.runpytest_subprocess(
        capture, "-p", "no:cacheprovider", "-rA", *(() if full else ("test_prints.py",)))
    if full:
        result.assert_outcomes(passed=3, failed=4)
    else:
        result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    sim_key = sim_key_file.read_text() if full else "no simulator in this run"
    assert len(sim_key) >= 16
    for secret in (PASSPHRASE, API_KEY, HOOK_SECRET, sim_key, *key_lines):
        assert secret not in output
    assert "passphrase [REDACTED] and key [REDACTED]" in output
    assert "api key in parts: [REDACTED]" in output
    assert "[REDACTED PRIVATE KEY]" in output
    if full:
        assert "simulator x-api-key [REDACTED]" in output


def test_a_run_without_pytest_dso_prints_untouched(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSO_SUITES")
    pytester.makepyfile("""
import sys


def test_print():
    print("plain", "apikey-5f1e2d3c4b5a6978", type(sys.stdout).__name__)
""")
    # In-process: the print goes to the stream the run found, wrapped or not.
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    line = next(x for x in result.stdout.lines if "plain" in x)
    assert "apikey-5f1e2d3c4b5a6978" in line
    assert "RedactingStream" not in line


def test_results_folder_is_cleaned_but_a_given_alluredir_is_respected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_ok():\n    pass\n")
    default = pytester.path / "reports" / "allure-results"
    default.mkdir(parents=True)
    (default / "stale-result.json").write_text("{}")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (default / "stale-result.json").exists()
    assert len(list(default.glob("*-result.json"))) == 1

    own = pytester.path / "own"
    own.mkdir()
    (own / "keep-result.json").write_text("{}")
    pytester.runpytest("-p", "no:cacheprovider", f"--alluredir={own}")
    assert (own / "keep-result.json").exists()
    assert (own / "environment.properties").exists()


XDIST_TESTS = """
import pytest

from pytest_dso.tenants import Tenant

TENANTS = [
    Tenant("00000001000000000001", "Gemeente Een", "gemeente"),
    Tenant("00000001000000000002", "Waterschap Twee", "waterschap"),
]


@pytest.mark.dso_step("PRE 2.6")
@pytest.mark.parametrize("tenant", TENANTS, ids=lambda t: t.oin[-4:])
def test_pingpong(tenant, dso_evidence):
    dso_evidence.attach_text("ping " + tenant.name, "ping")


@pytest.mark.dso_step("PRE 3.3")
@pytest.mark.parametrize("n", range(4))
def test_trigger(n):
    assert n != 3, "trigger timed out"


@pytest.mark.dso_step("PRE 4.1")
def test_ophalen(dso_evidence):
    dso_evidence.verzoeknummer("1234567890123")


@pytest.mark.skip(reason="manual step")
def test_screenshot():
    pass
"""


def _normalised(folder: Path) -> list[tuple[object, ...]]:
    return [
        (o.full_name, o.name, o.status, o.step, o.tenant, o.verzoeknummer)
        for o in load_results(folder)
    ]


@pytest.mark.slow
def test_xdist_gives_the_same_report_as_a_plain_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flow=XDIST_TESTS)
    pytester.makefile(".toml", dso='[dso]\nticket = "X-1"\n')
    plain = pytester.runpytest("-p", "no:cacheprovider", "--dso-output=plain")
    plain.assert_outcomes(passed=6, failed=1, skipped=1)
    (pytester.path / "xdist" / "allure-results").mkdir(parents=True)
    (pytester.path / "xdist" / "allure-results" / "stale-result.json").write_text("{}")
    # A folder given with --alluredir is emptied only with --clean-alluredir, and then by the
    # controller alone (allure-pytest's own cleaning races between workers).
    xdist = pytester.runpytest_subprocess(  # xdist's controller wants a process of its own
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--dso-output=xdist",
        "--alluredir=xdist/allure-results",
        "--clean-alluredir",
    )
    xdist.assert_outcomes(passed=6, failed=1, skipped=1)
    a, b = pytester.path / "plain" / "allure-results", pytester.path / "xdist" / "allure-results"
    assert _normalised(a) == _normalised(b)
    assert len(_normalised(b)) == 8
    threads = {
        label["value"]
        for p in b.glob("*-result.json")
        for label in json.loads(p.read_text())["labels"]
        if label["name"] == "thread"
    }
    assert len(threads) == 2  # it really ran on two workers
    volatile = {"run.id", "run.start"}
    env_a = {k: v for k, v in read_environment(a).items() if k not in volatile}
    env_b = {k: v for k, v in read_environment(b).items() if k not in volatile}
    assert env_a == env_b
    assert env_a["ticketnummer"] == "X-1"
    for name in ("executor.json", "categories.json"):
        assert (b / name).is_file()
    assert not (b / "stale-result.json").exists()

    def bundle_rows(root: Path) -> list[dict[str, object]]:
        rows = json.loads((root / "X-1" / "uitkomsten.json").read_text())
        return [{k: v for k, v in r.items() if k not in ("start", "einde")} for r in rows]

    assert bundle_rows(pytester.path / "plain") == bundle_rows(pytester.path / "xdist")
    assert verify_manifest(pytester.path / "xdist" / "X-1") == []


LATE_SECRET_TESTS = """
import allure


def test_a_writes_first():
    allure.attach("the token is tok-late-9f3c2a", name="log",
                  attachment_type=allure.attachment_type.TEXT)


def test_b_finds_the_secret(dso_redactor):
    dso_redactor.add_secret("tok-late-9f3c2a")
"""


@pytest.mark.parametrize("spread", [(), ("-n", "2", "--dist", "loadfile")],
                         ids=["serial", "xdist"])
def test_a_secret_registered_after_a_file_was_written_is_redacted_there_too(
    pytester: pytest.Pytester, spread: tuple[str, ...]
) -> None:
    """Registered at runtime (``dso_redactor.add_secret``) after an attachment holding it was
    written: the end of the run redacts it there; under xdist the worker that knows the secret
    does (the controller never learns a worker's runtime secrets)."""
    pytester.makepyfile(test_late=LATE_SECRET_TESTS)
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dso-output=out", *spread)
    run.assert_outcomes(passed=2)
    results = pytester.path / "out" / "allure-results"
    attachments = list(results.glob("*-attachment*"))
    assert attachments
    assert find_secrets(results, ["tok-late-9f3c2a"]) == []
    assert any("[REDACTED]" in p.read_text(encoding="utf-8") for p in attachments)
