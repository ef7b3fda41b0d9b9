"""Benchmark of the embedded simulator, end to end on loopback.

One verzoek = indienen (HTTPS, x-api-key) → verzoeknotificatie over ebMS to the harness
receiver (mTLS, async Acknowledgment back) → the DKA fetches the referenties and the STAM XML
(mTLS). A verzoek counts when its XML is fetched; its latency runs from submission to then.
The simulator runs in this process; the DKA and the load driver run in a child process, as a
real adapter would (the memory target is the simulator's RSS).

Targets:
1. throughput ≥ 200 verzoeken/s with none lost;
2. p99 latency < 100 ms at 100 verzoeken/s;
3. RSS < 250 MB after 10,000 verzoeken with bijlagen.

Prints each measurement with PASS/FAIL and exits 1 on any FAIL. ``--quick`` runs smaller
numbers (a smoke run, not the targets' full size). Every phase has a time limit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from cryptography import x509

from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.msh import AcceptedMessage, Msh
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.pkio.identity import Identity
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.identities import load_test_pki_folder
from pytest_dso.sim.load import LoadRun, Submit
from pytest_dso.sim.loadrun import load_target_oin, submitter
from pytest_dso.sim.server import Simulator
from pytest_dso.sim.stats import LatencySummary, LoadReport
from pytest_dso.stam.xml import parse_verzoeknotificatie
from pytest_dso.transport.client import HttpClient

THROUGHPUT_TARGET = 200.0
P99_TARGET_MS = 100.0
RSS_TARGET_MB = 250.0


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class FetchingDka:
    """The harness receiver as DKA; its application fetches referenties + STAM XML for every
    verzoeknotificatie and then reports the verzoek complete to the running load."""

    def __init__(self, identity: Identity, trust: Sequence[x509.Certificate],
                 afhandelen_url: str) -> None:
        self.run: LoadRun | None = None
        self.errors: list[str] = []
        self.msh = Msh(own_party_ids=(identity.oin or "",), on_deliver=self._deliver)
        self.receiver = EbmsReceiver(identity, trust, self.msh, workers=16)
        self.http = HttpClient.for_identity(identity, trust, max_idle_per_host=32)
        self.pool = ThreadPoolExecutor(16, thread_name_prefix="bench-fetch")
        self.base = afhandelen_url

    def stop(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.receiver.stop()
        self.http.close()

    def _deliver(self, delivery: AcceptedMessage) -> None:
        nummer = parse_verzoeknotificatie(delivery.message.attachments[0].data).verzoeknummer
        self.pool.submit(self._fetch, nummer)

    def _fetch(self, nummer: str) -> None:
        run = self.run
        ok = False
        try:
            refs = self.http.get(f"{self.base}/verzoeken/{nummer}")
            if refs.status == 200:
                href = json.loads(refs.response_body)["_links"]["verzoek"]["href"]
                xml = self.http.get(href)
                ok = xml.status == 200 and nummer.encode() in xml.response_body
            if not ok and len(self.errors) < 20:
                self.errors.append(f"{nummer}: referenties {refs.status} {refs.error or ''}")
        except Exception as exc:  # reported as a failure of this verzoek
            if len(self.errors) < 20:
                self.errors.append(f"{nummer}: {type(exc).__name__}: {exc}")
        if run is not None:
            run.completed(nummer, ok)


def phase(dka: FetchingDka, submit: Submit, count: int, rate: float,
          timeout: float) -> LoadReport:
    """One load phase: ``count`` verzoeken at ``rate``/s, completed when fetched."""
    run = LoadRun(submit, count, rate, workers=16)
    dka.run = run
    try:
        return run.run(timeout)
    finally:
        dka.run = None


def dka_process(setup: dict[str, Any], commands: Queue[Any], results: Queue[Any]) -> None:
    """The child process: a DKA plus the load driver, run phase by phase on command."""
    ids = load_test_pki_folder(Path(setup["certs"]))
    dka = FetchingDka(ids.party("digikoppelaar"), ids.trust, setup["afhandelen"])
    dka.receiver.start()
    results.put(dka.receiver.url)
    dka.receiver.add_cpa(parse_cpa(commands.get(timeout=60)))
    try:
        while True:
            command = commands.get(timeout=600)
            if command is None:
                return
            count, rate, timeout, bijlagen, size = command
            submit = submitter(setup["indienen"], setup["api_key"], ids.trust, setup["oin"],
                               bijlagen=bijlagen, bijlage_size=size)
            report = phase(dka, submit, count, rate, timeout)
            results.put((report.to_json(), dka.errors[:5]))
    finally:
        dka.stop()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smaller numbers (smoke run)")
    args = parser.parse_args(argv)
    quick = args.quick
    throughput_count = 600 if quick else 3000
    latency_count = 300 if quick else 1500
    memory_count = 1000 if quick else 10_000
    results: list[bool] = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as folder:
        options = SimOptions(retry_interval=2.0, retries=5, time_to_live=300.0, workers=16)
        sim = Simulator(options, None, Path(folder) / "dso-sim.sqlite")
        sim.start()
        commands: Queue[Any] = context.Queue()
        answers: Queue[Any] = context.Queue()
        setup = {"certs": str(sim.identities.folder), "afhandelen": sim.api_url("afhandelen"),
                 "indienen": sim.api_url("indienen"), "api_key": sim.api_key,
                 "oin": load_target_oin(sim)}
        child = context.Process(target=dka_process, args=(setup, commands, answers),
                                daemon=True)
        child.start()

        def run_phase(count: int, rate: float, timeout: float, bijlagen: int = 0,
                      size: int = 20_000) -> LoadReport:
            commands.put((count, rate, timeout, bijlagen, size))
            data, errors = answers.get(timeout=timeout + 60)
            for error in errors:
                print(f"  DKA error: {error}")
            latency = LatencySummary(**data.pop("latency"))
            data.pop("throughput", None)
            data["errors"] = tuple(data["errors"])
            return LoadReport(**data, latency=latency)

        try:
            dka_url = answers.get(timeout=60)
            cpa = sim.local_cpa(dka_url)
            sim.install_cpa(cpa)
            commands.put(cpa)
            run_phase(100, 200, 30)  # warm-up: connections, caches

            report = run_phase(throughput_count, 400.0, 120)
            rate = report.delivered / report.duration if report.duration else 0.0
            ok = rate >= THROUGHPUT_TARGET and report.lost == 0 and report.failed == 0
            results.append(ok)
            print(f"throughput: {rate:.0f} verzoeken/s end to end ({report.delivered}/"
                  f"{report.requested} in {report.duration:.1f} s), lost {report.lost}, "
                  f"failed {report.failed}  target >= {THROUGHPUT_TARGET:.0f}/s, none lost  "
                  f"{verdict(ok)}", flush=True)

            report = run_phase(latency_count, 100.0, 120)
            ok = report.latency.p99 < P99_TARGET_MS and report.lost == 0 and report.failed == 0
            results.append(ok)
            print(f"latency at 100/s: p50 {report.latency.p50:.1f} ms, p99 "
                  f"{report.latency.p99:.1f} ms, max {report.latency.max:.1f} ms, lost "
                  f"{report.lost}  target p99 < {P99_TARGET_MS:.0f} ms  {verdict(ok)}",
                  flush=True)

            report = run_phase(memory_count, 400.0, 300, bijlagen=2, size=50_000)
            memory = rss_mb()
            ok = memory < RSS_TARGET_MB and report.lost == 0 and report.failed == 0
            results.append(ok)
            print(f"memory: simulator RSS {memory:.0f} MB after {report.delivered} more "
                  f"verzoeken with 2 bijlagen each (lost {report.lost}, failed "
                  f"{report.failed})  target < {RSS_TARGET_MB:.0f} MB  {verdict(ok)}",
                  flush=True)
        finally:
            commands.put(None)
            child.join(30)
            if child.is_alive():
                child.kill()
            sim.stop()
    overall = all(results) and len(results) == 3
    print(f"bench_sim: {verdict(overall)}{' (quick run)' if quick else ''}")
    return 0 if overall else 1


if __name__ == "__main__":
    sys.exit(main())
