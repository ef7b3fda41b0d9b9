"""docs/rehearsal.md, followed literally: PRE against a real ``dso-sim serve`` subprocess.

The test reads the blocks marked ``<!-- rehearsal: NAME -->`` from the guide (the commands, the
dso.toml, the indienen bodies, the run) and runs them with free loopback ports instead of the
example ports. It proves the guide's promises: two tenants whose verzoeken are submitted in the
opposite order to the waits, or before the run, both pass PRE 3.3 and 4.1; under ``-n 2`` the
loket steps print once per tenant, the listener binds once and every step has the outcome of the
serial run.

The two pytest runs get what every pytester run of the self-tests gets (see conftest.py): the
quick EC ``dso_test_pki`` of :mod:`dso_selftest_plugin` instead of a fresh RSA-3072 one per
process (PRE uses the guide's certificates; the test PKI decides nothing in a PRE run), none
of the plugins no suite uses (conftest's ``UNUSED_PLUGINS``), and ``DSO_CHROMIUM=off`` (the
ticket's bundle is made without the summary's PNG/PDF, which this test does not look at).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pytest_dso.cli.sim import main as sim_main
from pytest_dso.e2e.openapi import validate_schema

pytest.importorskip("xdist")

ROOT = Path(__file__).parents[2]
TESTS = Path(__file__).parents[1]
GUIDE = ROOT / "docs" / "rehearsal.md"
EXAMPLE_PORTS = ("8443", "9443", "9444")
PROMPT = "Submit the aansluittest for"


def guide_blocks() -> dict[str, str]:
    """The guide's marked blocks by name."""
    text = GUIDE.read_text(encoding="utf-8")
    found = re.findall(r"<!-- rehearsal: (\S+) -->\n```[a-z]*\n(.*?)\n```", text, re.DOTALL)
    return dict(found)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST", "DSO_"))}
    env.update(extra)
    return env


def _quick_pytest_env(**extra: str) -> dict[str, str]:
    """:func:`_clean_env` for a pytest run, as the self-tests' pytester runs have it: the quick
    test PKI, no unused plugins, and no Chromium for the ticket bundle's PNG/PDF."""
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return _clean_env(PYTEST_PLUGINS="dso_selftest_plugin", PYTHONPATH=path,
                      PYTEST_ADDOPTS="-p no:schemathesis -p no:anyio -p no:hypothesispytest",
                      DSO_CHROMIUM="off", **extra)


def _sim_command(line: str) -> list[str]:
    words = shlex.split(line)
    assert words[0] == "dso-sim", line
    return [sys.executable, "-m", "pytest_dso.cli.sim", *words[1:]]


class Rehearsal:
    """The guide's set-up in ``folder``: blocks with the ports replaced, the simulator."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        ports = {p: str(_free_port()) for p in EXAMPLE_PORTS}
        self.blocks = {}
        for name, text in guide_blocks().items():
            for example, port in ports.items():
                text = text.replace(f":{example}", f":{port}").replace(f" {example}", f" {port}")
            self.blocks[name] = text
        self.serve: subprocess.Popen[str] | None = None

    @property
    def sim(self) -> Path:
        return self.folder / "rehearsal" / "sim"

    def start(self) -> None:
        # ``dso-sim cpa`` in-process (its entry point, without a process start); the
        # simulator itself is a real ``dso-sim serve`` process
        with contextlib.chdir(self.folder):
            assert sim_main(shlex.split(self.blocks["cpa"])[1:]) == 0
        self.serve = subprocess.Popen(
            _sim_command(self.blocks["serve"]), cwd=self.folder, env=_clean_env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.serve.stdout is not None
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.serve.stdout.readline()
            seen.append(line)
            if "dso-sim ready" in line:
                break
            if not line and self.serve.poll() is not None:
                break
        assert "dso-sim ready" in "".join(seen), "".join(seen)
        root = x509.load_pem_x509_certificate((self.sim / "certs" / "root.pem").read_bytes())
        fingerprint = root.fingerprint(hashes.SHA256()).hex(":").upper()
        (self.folder / "dso.toml").write_text(
            self.blocks["dso.toml"].replace("<ROOT_FINGERPRINT>", fingerprint), encoding="utf-8")
        suites = self.folder / "suites"
        suites.mkdir(exist_ok=True)
        for suite in (ROOT / "suites").glob("test_*.py"):
            (suites / suite.name).write_text(suite.read_text(encoding="utf-8"), encoding="utf-8")

    def stop(self) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.terminate()
            try:
                self.serve.wait(20)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait(5)

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.sim / "certs" / "root.pem"))

    def _indienen(self) -> str:
        config = self.blocks["dso.toml"]
        found = re.search(r'^indienen = "(.*)"$', config, re.MULTILINE)
        assert found is not None
        return found.group(1)

    def submit(self, tenant: str) -> str:
        """POST the guide's body for ``tenant`` (``gemeente``/``waterschap``); the number."""
        request = urllib.request.Request(  # noqa: S310 - an https URL on loopback
            f"{self._indienen()}/verzoeken", data=self.blocks[f"body-{tenant}"].encode(),
            headers={"Content-Type": "application/json",
                     "x-api-key": (self.sim / "api-key").read_text().strip()},
            method="POST")
        with urllib.request.urlopen(request, context=self._tls(), timeout=30) as response:  # noqa: S310 - loopback
            return str(json.loads(response.read())["verzoeknummer"])

    def openapi(self) -> dict[str, object]:
        request = urllib.request.Request(  # noqa: S310 - an https URL on loopback
            f"{self._indienen()}/openapi.json")
        with urllib.request.urlopen(request, context=self._tls(), timeout=30) as response:  # noqa: S310 - loopback
            data: dict[str, object] = json.loads(response.read())
            return data

    def run(self, name: str, *extra: str,
            on_line: Callable[[str], None] = lambda _: None) -> tuple[dict[str, str], str]:
        """The guide's run command (plus ``extra``); (test id → outcome, output)."""
        words = shlex.split(self.blocks["run"])
        assert words[0] == "DSO_SIM_API_KEY=$(cat", words
        words = words[words.index("pytest") + 1:]
        junit = self.folder / f"{name}.xml"
        # A PRE run with its own certificates needs no test PKI (making one costs seconds):
        # the self-tests' dso_test_pki fails any test that asks for it.
        env = _quick_pytest_env(DSO_SIM_API_KEY=(self.sim / "api-key").read_text().strip(),
                                DSO_SELFTEST_KEY_TYPE="none")
        # PRE 2.5 checks the published DSO-LV host names and ingress addresses (the guide says
        # it cannot pass against a simulator on loopback); a self-test contacts only loopback.
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}",
             "--deselect", "suites/test_whitelist.py",
             "--deselect", "suites/test_aansluitproces.py::test_stap[PRE-2.5]", *extra, *words],
            cwd=self.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        lines: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                on_line(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            process.wait(300)
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(10)
        output = "".join(lines)
        assert junit.exists(), output
        return _outcomes(junit), output


def _outcomes(junit: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own report
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        outcome = "passed" if not kinds else kinds[0].replace("failure", "failed")
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = (
            "error" if "error" in kinds else outcome)
    return outcomes


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    setup = Rehearsal(tmp_path)
    try:
        setup.start()
        yield setup
    finally:
        setup.stop()


def _steps(outcomes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in outcomes.items() if "test_aansluitproces" in k}


@pytest.mark.slow
def test_the_rehearsal_guide_walks_pre_against_dso_sim_serve(rehearsal: Rehearsal) -> None:
    # the indienen body of the guide is what the simulator's openapi.json documents
    operation = rehearsal.openapi()["paths"]["/verzoeken"]["post"]  # type: ignore[index]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    for tenant in ("gemeente", "waterschap"):
        assert validate_schema(json.loads(rehearsal.blocks[f"body-{tenant}"]), schema) == []
    assert validate_schema({"type": "Melding"}, schema)  # activiteiten missing

    # serial: the run waits for the gemeente first; the waterschap's verzoek is submitted first
    submitted: list[str] = []

    def on_line(line: str) -> None:
        if PROMPT in line and "Gemeente" in line and not submitted:
            submitted.append(rehearsal.submit("waterschap"))
            submitted.append(rehearsal.submit("gemeente"))

    serial, serial_out = rehearsal.run("serial", on_line=on_line)
    assert len(submitted) == 2, serial_out
    for tenant in ("gemeente-0101", "waterschap-0102"):
        for test in ("test_verzoeknotificatie_ontvangen", "test_verzoek_opgehaald"):
            assert serial[f"suites.test_e2e::{test}[{tenant}]"] == "passed", serial_out

    # -n 2, both verzoeken submitted before the run starts
    rehearsal.submit("gemeente")
    rehearsal.submit("waterschap")
    spread, spread_out = rehearsal.run("xdist", "-n", "2")
    assert "Address already in use" not in spread_out
    assert spread_out.count(PROMPT) == 2, spread_out  # once per tenant, as serially
    assert serial_out.count(PROMPT) == 2, serial_out
    assert _steps(spread) == _steps(serial), (serial_out, spread_out)
    assert spread == serial
