"""Crash consistency: ``dso-sim serve`` is killed with SIGKILL ten times at random moments
while clients submit verzoeken (each with its own ``Idempotency-Key``, retried until it gets an
answer). Afterwards every stored verzoek has its verzoeknotificatie, every one reached the DKA's
application exactly once, and no retry created a second verzoek.

A kill's moment is drawn relative to the work, not to the clock: after a random number of
verzoeken this round has stored (so every kill lands while clients submit and the simulator
delivers, however loaded the machine), plus a random fraction of a second."""

from __future__ import annotations

import collections
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

import pytest
from sim_helpers import Dka, melding

from pytest_dso.cli.sim import main
from pytest_dso.sim.identities import load_test_pki_folder
from pytest_dso.transport.client import HttpClient

CLI = [sys.executable, "-m", "pytest_dso.cli.sim"]
KILLS = 10
CLIENTS = 3
KEY_ENV = "CRASH_TEST_API_KEY"
API_KEY = uuid.uuid4().hex


def _lines(stream: IO[str], sink: queue.Queue[str]) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))


def _serve(output: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSO_")}
    env[KEY_ENV] = API_KEY
    process = subprocess.Popen(
        [*CLI, "serve", "--output", str(output), "--retry-interval", "0.3", "--retries", "200",
         "--time-to-live", "600", "--api-key-env", KEY_ENV],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    sink: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_lines, args=(process.stdout, sink), daemon=True).start()
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = sink.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if "dso-sim ready" in line:
            return process, json.loads((output / "urls.json").read_text())
    process.kill()
    raise AssertionError(f"dso-sim serve did not start: {seen}")


class Submitters:
    """Clients that submit meldingen with an Idempotency-Key each and retry a key until it
    is answered (a 201 that never arrived is retried with the same key)."""

    def __init__(self, trust: object, api_key: str) -> None:
        self.trust = trust
        self.api_key = api_key
        self.lock = threading.Lock()
        self.unanswered: list[str] = []
        self.answered: dict[str, list[str]] = {}
        self.url = ""
        self.stop = threading.Event()
        self.unexpected: list[str] = []
        self.failures = 0
        self.created = 0  # 201 answers so far
        self.threads: list[threading.Thread] = []

    def start(self, url: str, *, new: bool) -> None:
        self.url = url
        self.stop.clear()
        self.threads = [threading.Thread(target=self._run, args=(new,), daemon=True)
                        for _ in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def halt(self) -> None:
        self.stop.set()
        self.finish()

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(60)

    def wait_created(self, total: int, timeout: float) -> None:
        """Until ``total`` 201 answers have arrived in all (or ``timeout`` has passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.created >= total:
                    return
            time.sleep(0.005)

    def _next(self, new: bool) -> str | None:
        with self.lock:
            if self.unanswered:
                return self.unanswered.pop(0)
        return str(uuid.uuid4()) if new else None

    def _run(self, new: bool) -> None:
        http = HttpClient.for_identity(None, self.trust,  # type: ignore[arg-type]
                                       connect_timeout=2.0, read_timeout=5.0)
        body = json.dumps({**melding(), "definitief": True}).encode()
        try:
            while not self.stop.is_set():
                key = self._next(new)
                if key is None:
                    return
                answer = http.post(f"{self.url}/verzoeken", body, headers={
                    "x-api-key": self.api_key, "Content-Type": "application/json",
                    "Idempotency-Key": key})
                with self.lock:
                    if answer.status == 201:
                        self.created += 1
                        nummers = json.loads(answer.response_body)["verzoeknummers"]
                        self.answered[key] = [str(n) for n in nummers]
                    else:
                        if answer.status is not None and answer.status not in (409, 503):
                            self.unexpected.append(f"{answer.status}: {answer.response_body!r}")
                        self.unanswered.append(key)
                if answer.status != 201:
                    self.failures += 1
                    if self.failures > 10_000:
                        return
                    time.sleep(0.05)
        finally:
            http.close()


@pytest.mark.slow
def test_ten_kill_9s_during_submissions_leave_nothing_half_done(output: Path, cli_dka: Dka) -> None:
    assert main(["cpa", "--output", str(output), "--dka-endpoint", cli_dka.url]) == 0
    cli_dka.use((output / "cpa.xml").read_bytes())
    ids = load_test_pki_folder(output / "certs")
    rng = random.Random(13)
    submitters: Submitters | None = None
    for round_ in range(KILLS + 1):
        process, info = _serve(output)
        try:
            if submitters is None:
                submitters = Submitters(ids.trust, API_KEY)
            indienen = info["api_base_urls"]["indienen"]  # type: ignore[index]
            last = round_ == KILLS
            before = submitters.created
            submitters.start(str(indienen), new=not last)
            if not last:
                submitters.wait_created(before + rng.randint(1, 12), timeout=30)
                time.sleep(rng.uniform(0, 0.3))
                process.send_signal(signal.SIGKILL)
                process.wait(10)
                submitters.halt()
                continue
            submitters.finish()  # the last round only retries what was never answered
            assert not submitters.unanswered
            stored = _stored(output)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not all(
                cli_dka.received(n) for n in stored
            ):
                time.sleep(0.1)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                finally:
                    if process.poll() is None:
                        process.kill()
    assert submitters is not None
    assert submitters.unexpected == []
    stored = _stored(output)
    answered = [n for nummers in submitters.answered.values() for n in nummers]
    assert len(submitters.answered) > KILLS  # submissions really ran in between the kills
    # every retried key got its first result: one verzoek per key, none created twice
    assert sorted(answered) == sorted(stored)
    with sqlite3.connect(output / "dso-sim.sqlite") as db:
        without = db.execute(
            "SELECT v.verzoeknummer FROM verzoeken v LEFT JOIN deliveries d "
            "ON d.verzoeknummer = v.verzoeknummer WHERE d.id IS NULL").fetchall()
        per_verzoek = db.execute(
            "SELECT verzoeknummer, COUNT(*) FROM deliveries GROUP BY verzoeknummer, "
            "recipient_oin HAVING COUNT(*) > 1").fetchall()
    assert without == []  # no stored verzoek without a verzoeknotificatie
    assert per_verzoek == []
    counts = collections.Counter(cli_dka.application)
    assert set(counts) == set(stored)  # every verzoek reached the application ...
    assert max(counts.values()) == 1  # ... exactly once


def _stored(output: Path) -> list[str]:
    with sqlite3.connect(output / "dso-sim.sqlite") as db:
        return [str(r[0]) for r in db.execute("SELECT DISTINCT verzoeknummer FROM verzoeken")]
