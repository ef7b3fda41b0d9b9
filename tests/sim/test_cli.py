"""``dso-sim`` as a user runs it: ``cpa`` writes the CPA for the harness receiver as DKA,
``serve`` runs as a subprocess, a melding submitted through indienen reaches the DKA, the DKA
fetches the verzoek, another bevoegd gezag gets 403; ``load`` reports as JSON."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

import pytest
from sim_helpers import Dka, client_for, melding

from pytest_dso.cli.sim import main
from pytest_dso.sim.identities import load_test_pki_folder
from pytest_dso.stam.xml import parse_verzoek
from pytest_dso.transport.client import HttpClient

CLI = [sys.executable, "-m", "pytest_dso.cli.sim"]


def _lines(stream: IO[str], sink: queue.Queue[str]) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))


def _wait_for_line(sink: queue.Queue[str], text: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = sink.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not printed within {timeout} s; got: {seen}")


def test_serve_delivers_a_melding_to_the_dka_configured_from_dso_sim_cpa(
    output: Path, cli_dka: Dka, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cpa", "--output", str(output), "--dka-endpoint", cli_dka.url]) == 0
    assert "CPA written to" in capsys.readouterr().out
    cli_dka.use((output / "cpa.xml").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSO_")}
    process = subprocess.Popen(
        [*CLI, "serve", "--output", str(output), "--retry-interval", "0.3", "--retries", "10",
         "--time-to-live", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    sink: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_lines, args=(process.stdout, sink), daemon=True).start()
    try:
        printed = _wait_for_line(sink, "dso-sim ready", 30)
        assert any("dso-sim ebMS endpoint: https://127.0.0.1:" in line for line in printed)
        [indienen] = [line for line in printed if line.startswith("dso-sim API indienen: ")]
        assert indienen.endswith("/publiek/verzoeken/api/indienen/v5")
        assert any(str(output / "cpa.xml") in line for line in printed)
        info = json.loads((output / "urls.json").read_text())
        api_key = (output / "api-key").read_text().strip()
        assert api_key not in "\n".join(printed)
        ids = load_test_pki_folder(output / "certs")

        anon = HttpClient.for_identity(None, ids.trust)
        headers = {"x-api-key": api_key, "Content-Type": "application/json"}
        answer = anon.post(info["api_base_urls"]["indienen"] + "/verzoeken",
                           json.dumps({**melding(), "definitief": True}).encode(),
                           headers=headers)
        assert answer.status == 201, answer.response_body
        [nummer] = json.loads(answer.response_body)["verzoeknummers"]

        deadline = time.monotonic() + 10
        while cli_dka.received(nummer) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cli_dka.received(nummer) == 1

        referenties = info["api_base_urls"]["afhandelen"] + f"/verzoeken/{nummer}"
        as_dka = client_for(ids.party("digikoppelaar"), ids.trust)
        refs = as_dka.get(referenties)
        assert refs.status == 200
        xml = as_dka.get(json.loads(refs.response_body)["_links"]["verzoek"]["href"])
        assert parse_verzoek(xml.response_body).verzoeknummer == nummer
        # A consumer written against real STAM v4 messages: namespace-exact, no leniency.
        vx = {"vx": "http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoek"}
        for body in (xml.response_body, as_dka.get(referenties + "/samenvatting").response_body):
            root = ElementTree.fromstring(body)  # noqa: S314 - our own simulator's output
            assert root.findtext(".//vx:verzoeknummer", namespaces=vx) == nummer
            assert root.findtext(".//vx:activiteitnaam", namespaces=vx) == "Gemeentes – Melding"
            assert root.findtext(".//vx:type", namespaces=vx) == "Melding"
        other = client_for(ids.party("waterschap"), ids.trust).get(referenties)
        assert other.status == 403
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0
    _wait_for_line(sink, "dso-sim stopped", 5)


def test_load_reports_json(output: Path, cli_dka: Dka, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cpa", "--output", str(output), "--dka-endpoint", cli_dka.url]) == 0
    cli_dka.use((output / "cpa.xml").read_bytes())
    capsys.readouterr()
    code = main(["load", "--output", str(output), "--count", "30", "--rate", "300",
                 "--bijlagen", "1", "--retry-interval", "0.3", "--timeout", "30", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["delivered"] == 30
    assert report["lost"] == 0
    assert report["latency"]["p99"] > 0
    assert len(set(cli_dka.application)) == 30


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


def test_load_says_why_verzoeknotificaties_are_lost_or_failed(
    output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"https://127.0.0.1:{_closed_port()}/ebms"
    assert main(["cpa", "--output", str(output), "--dka-endpoint", nowhere]) == 0
    capsys.readouterr()
    # the CPA's RetryInterval (hours): nothing is final when the run ends
    assert main(["load", "--output", str(output), "--count", "3", "--rate", "100",
                 "--timeout", "2"]) == 1
    shown = capsys.readouterr().out
    assert "lost 3" in shown
    assert f"pending: 3 verzoeknotificatie(s) to {nowhere}: last error" in shown
    assert "connection was refused" in shown
    assert "--retry-interval or --time-scale shorten it" in shown
    # short retries: the same verzoeknotificaties fail within the run, with their reason
    assert main(["load", "--output", str(output), "--count", "2", "--rate", "100",
                 "--retry-interval", "0.2", "--retries", "1", "--timeout", "10", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 2
    assert report["pending"] == []
    [failure] = report["failures"]
    assert failure.startswith(f"2 verzoeknotificatie(s) to {nowhere} ")  # this run's only
    assert "connection was refused" in failure


def test_usage_errors_are_short_and_clear(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--output", str(output), "--fault", '{"kind": "meteor"}']) == 2
    assert "fault kind 'meteor' is not known" in capsys.readouterr().err
    assert main(["serve", "--output", str(output), "--cert", "x.pem"]) == 2
    assert "--cert, --key and --ca-bundle" in capsys.readouterr().err
