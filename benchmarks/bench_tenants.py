"""Benchmark of the local main job over many tenants, on loopback only.

The local main job is what ``python3 tasks.py run`` does: a pytest run of the packaged suites
against the embedded simulator, with a ``dso.toml`` listing the bevoegde gezagen
(``[[bevoegd_gezag]]``). Each tenant adds its end-to-end flow (submit → verzoeknotificatie over
ebMS → trigger → verzoek ophalen with the tenant's certificate) and its per-tenant tests, with
their evidence and results; the flows of all tenants run concurrently (bounded, as
``ping_many`` is).

Measured in one run, each size in its own child pytest process with a time limit and its own
folder, as an installed pytest-dso runs it: without the pytest plugins that only the dev extras
bring (schemathesis, anyio, hypothesis, xdist), whose start-up and per-test hooks a user's run
does not have: the wall time of the whole job for 3 tenants (the built-in local set-up) and for 400
(about as many bevoegde gezagen as the Netherlands has; the extra ones are gemeenten and
waterschappen with test OINs), and their ratio. Each size runs ``--rounds`` times (default 2),
the sizes interleaved, and the fastest run of each counts: a shared machine's noise only ever
adds time. Then, cheaply, the engine flows alone
(:class:`~pytest_dso.e2e.runs.E2eRuns` without pytest) for the same sizes, and the ticket bundle
(``dso-report bundle``, without Chromium) built from each size's results: it judges every step
for every tenant, so it must stay about linear in tenants. And, for scale, the floor: the same
number of tests and attachments (of the same mean size) through plain pytest and allure-pytest,
without pytest-dso, so the part of each job that is pytest-dso's own is visible. Last, what one
more tenant costs (the job, the floor and the flows alone) against what the target leaves for
it: at most twice the 3-tenant job over the 397 extra tenants.
When pytest-xdist is installed, the same job with ``-n 2`` for both sizes, for information: each
tenant's tests and flow then stay on one worker, so the tenants are shared out over two
processes. Target: the 400-tenant job within 3x the 3-tenant job. Every test must pass or skip as it
does for the built-in set-up, every flow must succeed.

Prints the times, the ratios, the load average and PASS/FAIL; exits 1 on any FAIL. ``--quick``
runs 3 and 40. Every wait is bounded (child time limit, trigger timeout, HTTP timeouts).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pytest_dso.dsofile import DsoFile, TriggersConfig
from pytest_dso.e2e.flow import FlowResult
from pytest_dso.e2e.runs import E2eRuns, E2eSetupError, local_chain
from pytest_dso.environments import profile
from pytest_dso.evidence.bundle import build_bundle
from pytest_dso.findings import errors
from pytest_dso.pkio.testpki import TestPki, build_test_pki, test_oin
from pytest_dso.settings import DsoSettings
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.server import Simulator
from pytest_dso.tenants import Tenant, local_bevoegde_gezagen

RATIO_TARGET = 3.0
SMALL, LARGE = 3, 400
#: The seconds a single flow may wait for its verzoeknotificatie.
TRIGGER_TIMEOUT = 60.0
#: The seconds one pytest run of the local main job may take.
JOB_LIMIT_S = 900.0
_SUMMARY = re.compile(r"\d+ (passed|failed|skipped|error)")
#: The pytest plugins of the dev extras, left out of the measured job (see the module).
DEV_PLUGINS = ("schemathesis", "anyio", "hypothesispytest", "xdist")
#: Workers of the informative pytest-xdist measurement.
XDIST_WORKERS = 2


@dataclass(frozen=True)
class Measured:
    """One size: how long the run took, and what failed."""

    tenants: int
    wall: float
    failed: tuple[str, ...]
    summary: str = ""


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def tenants_for(count: int) -> tuple[Tenant, ...]:
    """The built-in local set-up, then gemeenten and waterschappen with test OINs."""
    base = local_bevoegde_gezagen()
    extra = tuple(
        Tenant(test_oin(10_000 + n), f"TEST {kind.capitalize()} {n:03d}", kind)
        for n in range(max(0, count - len(base)))
        for kind in (("gemeente", "waterschap")[n % 2],)
    )
    return (base + extra)[:count]


def dso_toml(tenants: tuple[Tenant, ...]) -> str:
    """A ``dso.toml`` listing ``tenants`` as ``[[bevoegd_gezag]]``."""
    lines: list[str] = []
    for tenant in tenants:
        lines += ["[[bevoegd_gezag]]", f'oin = "{tenant.oin}"', f'name = "{tenant.name}"',
                  f'type = "{tenant.type}"']
        if tenant.behandeldiensten:
            listed = ", ".join(f'"{oin}"' for oin in tenant.behandeldiensten)
            lines.append(f"behandeldiensten = [{listed}]")
        lines.append("")
    return "\n".join(lines)


def _timed(command: list[str], folder: Path, env: dict[str, str] | None = None
           ) -> tuple[float, subprocess.CompletedProcess[str]] | None:
    """The wall time and outcome of a child run in ``folder``; ``None`` past the time limit."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=JOB_LIMIT_S, check=False)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - started, proc


def measure_job(count: int, folder: Path, workers: int = 0) -> Measured:
    """The local main job (the packaged suites, every tenant) as a child pytest run; with
    ``workers``, under pytest-xdist (``-n workers``)."""
    folder.mkdir(parents=True)
    (folder / "dso.toml").write_text(dso_toml(tenants_for(count)), encoding="utf-8")
    left_out = [name for name in DEV_PLUGINS if not (workers and name == "xdist")]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               *(f"-pno:{name}" for name in left_out), "--dso-env", "local",
               "--dso-config", str(folder / "dso.toml"), "--dso-output", str(folder / "reports"),
               *(("-n", str(workers)) if workers else ())]
    timed = _timed(command, folder, {**os.environ, "DSO_CHROMIUM": "off"})
    if timed is None:
        return Measured(count, JOB_LIMIT_S, (f"not done within {JOB_LIMIT_S:g} s",))
    wall, proc = timed
    summary = next((line.strip("= ") for line in reversed(proc.stdout.splitlines())
                    if _SUMMARY.search(line)), "no summary")
    failed = () if proc.returncode == 0 else (
        f"pytest exit {proc.returncode}: {summary}",
        *[line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))])
    return Measured(count, wall, failed, summary)


def _shape(results: Path) -> tuple[int, int, int]:
    """Tests, attachments and attachment bytes in an Allure results folder."""
    tests = sum(1 for _ in results.glob("*-result.json"))
    attachments = [path.stat().st_size for path in results.glob("*-attachment*")]
    return tests, len(attachments), sum(attachments)


def measure_floor(count: int, results: Path, folder: Path) -> Measured:
    """Plain pytest with allure-pytest (``-p no:dso``) for a job's number of tests and
    attachments: the framework's share of that job."""
    tests, attachments, size = _shape(results)
    folder.mkdir(parents=True)
    each, extra = divmod(attachments, max(1, tests))
    body = "x" * (size // max(1, attachments))
    (folder / "test_floor.py").write_text(
        "import allure, pytest\n\n"
        f"@pytest.mark.parametrize('n', range({tests}))\n"
        "def test_floor(n):\n"
        f"    for k in range({each} + (n < {extra})):\n"
        "        with allure.step(f'step {k}'):\n"
        f"            allure.attach({body!r}, name='attachment',\n"
        "                          attachment_type=allure.attachment_type.TEXT)\n",
        encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:dso",
               *(f"-pno:{name}" for name in DEV_PLUGINS), "--alluredir", str(folder / "results"),
               "test_floor.py"]
    timed = _timed(command, folder)
    if timed is None:
        return Measured(count, JOB_LIMIT_S, (f"not done within {JOB_LIMIT_S:g} s",))
    wall, proc = timed
    failed = () if proc.returncode == 0 else (f"pytest exit {proc.returncode}",)
    return Measured(count, wall, failed, f"{tests} tests, {attachments} attachments")


def _failure(tenant: Tenant, result: FlowResult | E2eSetupError) -> str | None:
    if isinstance(result, E2eSetupError):
        return f"{tenant.oin}: {result}"
    bad = errors(result.findings)
    if bad or result.ophalen is None or not result.ophalen.complete:
        return f"{tenant.oin}: " + ("; ".join(str(f) for f in bad[:2]) or "not fetched")
    return None


def measure_flows(pki: TestPki, count: int, folder: Path) -> Measured:
    """The engine flows alone over ``count`` tenants on a fresh simulator (no pytest)."""
    tenants = tenants_for(count)
    settings = DsoSettings(env="local", file=DsoFile(
        bevoegde_gezagen=tenants, triggers=TriggersConfig(timeout=TRIGGER_TIMEOUT)))
    sim = Simulator(SimOptions.from_dso_file(settings.file, time_scale=0.001), pki=pki,
                    store_path=folder / "dso-sim.sqlite").start()
    try:
        environment = profile("local").with_base_urls(sim.api_base_urls)
        chain = local_chain(settings, environment, sim, folder)
        by_oin = {p.oin: p.slug for p in pki.parties}
        leverancier = pki.identity("leverancier")
        acting = tuple(t.with_identity(pki.identity(by_oin[t.oin]) if t.oin in by_oin
                                       else leverancier) for t in tenants)
        runs = E2eRuns(chain, acting, pki, {}, say=lambda _text: None)
        try:
            started = time.perf_counter()
            results = runs.flows(acting)
            wall = time.perf_counter() - started
        finally:
            runs.close()
            chain.close()
    finally:
        sim.stop()
    failed = tuple(f for t, r in zip(acting, results, strict=True)
                   if (f := _failure(t, r)) is not None)
    return Measured(count, wall, failed)


def measure_bundle(count: int, results: Path, output: Path) -> Measured:
    """The ticket bundle (summary, mails, progress picture; no Chromium) of one job's results."""
    started = time.perf_counter()
    try:
        build_bundle(results, output, "BENCH-1", render=False, chromium=False)
    except (OSError, ValueError) as exc:
        return Measured(count, time.perf_counter() - started, (f"bundle: {exc}",))
    return Measured(count, time.perf_counter() - started, ())


def _fastest(runs: list[Measured]) -> Measured:
    """The fastest run, or the first that failed (a failure is never hidden by a pass)."""
    failed = [run for run in runs if run.failed]
    return failed[0] if failed else min(runs, key=lambda run: run.wall)


def _report(what: str, sizes: list[Measured], target: bool) -> bool:
    ok = True
    small, big = sizes
    for one in sizes:
        good = not one.failed
        ok &= good
        extra = f" ({one.summary})" if one.summary else ""
        print(f"{what}, {one.tenants} tenants: {one.wall:.2f} s{extra}; "
              f"{'PASS' if good else 'FAIL'}")
        for text in one.failed[:4]:
            print(f"    {text}")
    ratio = big.wall / small.wall
    if not target:
        print(f"{what}: ratio {big.tenants}/{small.tenants} tenants = {ratio:.2f} (informative)")
        return ok
    within = ratio <= RATIO_TARGET
    print(f"{what}: ratio {big.tenants}/{small.tenants} tenants = {ratio:.2f} "
          f"(target <= {RATIO_TARGET:g}) {'PASS' if within else 'FAIL'}")
    return ok and within


def _extra_ms(sizes: list[Measured]) -> float:
    small, big = sizes
    return (big.wall - small.wall) / (big.tenants - small.tenants) * 1000


def _per_tenant(jobs: list[Measured], floors: list[Measured], flows: list[Measured]) -> None:
    """What one more tenant costs, and what the target leaves for it: ``L <= 3 S`` means
    at most ``2 S / (N - 3)`` per tenant beyond the 3-tenant job ``S``."""
    small, big = jobs
    allowed = RATIO_TARGET * small.wall - small.wall
    print(f"per extra tenant (informative): the job {_extra_ms(jobs):.1f} ms; alone, "
          f"pytest + allure-pytest {_extra_ms(floors):.1f} ms and the engine flows "
          f"{_extra_ms(flows):.1f} ms; the target leaves "
          f"{allowed / (big.tenants - small.tenants) * 1000:.1f} ms "
          f"({RATIO_TARGET - 1:g} x the {small.tenants}-tenant job / "
          f"{big.tenants - small.tenants})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="3 and 40 tenants (smoke run).")
    parser.add_argument("--no-flows", action="store_true",
                        help="Skip the engine-only measurement.")
    parser.add_argument("--rounds", type=int, default=2,
                        help="Runs per size; the fastest counts (default: 2).")
    args = parser.parse_args(argv)
    large = 40 if args.quick else LARGE
    before = _load()
    with tempfile.TemporaryDirectory(prefix="dso-bench-tenants-") as tmp:
        runs: dict[int, list[Measured]] = {SMALL: [], large: []}
        for round_ in range(max(1, args.rounds)):
            for count in (SMALL, large):
                runs[count].append(measure_job(count, Path(tmp) / f"job{count}-{round_}"))
        jobs = [_fastest(runs[count]) for count in (SMALL, large)]
        ok = _report("local main job", jobs, target=True)
        if importlib.util.find_spec("xdist") is not None:
            # informative: each tenant's tests and flow on one worker (fixtures/xdist.py)
            spread: dict[int, list[Measured]] = {SMALL: [], large: []}
            for round_ in range(max(1, args.rounds)):
                for count in (SMALL, large):
                    spread[count].append(measure_job(
                        count, Path(tmp) / f"xdist{count}-{round_}", workers=XDIST_WORKERS))
            ok &= _report(f"local main job with -n {XDIST_WORKERS} (pytest-xdist)",
                          [_fastest(spread[count]) for count in (SMALL, large)], target=False)
        results = {count: Path(tmp) / f"job{count}-0" / "reports" / "allure-results"
                   for count in (SMALL, large)}
        bundles = [measure_bundle(count, results[count], Path(tmp) / f"bundle{count}")
                   for count in (SMALL, large)]
        ok &= _report("ticket bundle", bundles, target=False)
        floors = [measure_floor(count, results[count], Path(tmp) / f"floor{count}")
                  for count in (SMALL, large)]
        ok &= _report("pytest + allure-pytest alone, same tests and attachments", floors,
                      target=False)
        own = [job.wall - floor.wall for job, floor in zip(jobs, floors, strict=True)]
        print(f"pytest-dso's own part of the job: {own[0]:.2f} s for {SMALL} tenants, "
              f"{own[1]:.2f} s for {large} (informative)")
        if not args.no_flows:
            pki = build_test_pki(key_type="ec256")
            flows = []
            for count in (SMALL, large):
                folder = Path(tmp) / f"flows{count}"
                folder.mkdir()
                flows.append(measure_flows(pki, count, folder))
            ok &= _report("engine flows alone", flows, target=False)
            _per_tenant(jobs, floors, flows)
    print(f"{os.cpu_count()} cores; load average before {before}, after {_load()}")
    print("overall", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
