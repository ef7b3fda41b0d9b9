"""Benchmark of the end-to-end flows over many tenants, on loopback only.

One flow = submit the tenant's aansluitactiviteit through the embedded simulator's indienen API →
the verzoeknotificatie over ebMS to the harness's reference DKA (mTLS, Acknowledgment back) →
the trigger matched for the tenant → verzoek ophalen with the tenant's certificate (referenties,
STAM XML validated, bijlagen with SHA-256, PDF). The flows of all tenants run concurrently
(:class:`~pytest_dso.e2e.runs.E2eRuns`, bounded as ``ping_many`` is).

Measured in one run, each size on a fresh simulator: the wall time of the whole local run
(simulator start, chain, every flow, stop) for 3 tenants (the built-in local set-up) and for
400 (about as many bevoegde gezagen as the Netherlands has), and the flows alone.
Target: 400 tenants within 3x the 3-tenant time. Every flow must succeed.

Prints the times, the ratios and PASS/FAIL; exits 1 on any FAIL. ``--quick`` runs 3 and 40.
Every wait is bounded (trigger timeout, HTTP timeouts).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pytest_dso.dsofile import DsoFile, TriggersConfig
from pytest_dso.e2e.flow import FlowResult
from pytest_dso.e2e.runs import E2eRuns, E2eSetupError, local_chain
from pytest_dso.environments import profile
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


@dataclass(frozen=True)
class Measured:
    """One size: how long the whole run and its flows took, and what failed."""

    tenants: int
    total: float
    flows: float
    failed: tuple[str, ...]


def tenants_for(count: int) -> tuple[Tenant, ...]:
    """The built-in local set-up, then gemeenten and waterschappen with test OINs."""
    base = local_bevoegde_gezagen()
    extra = tuple(
        Tenant(test_oin(10_000 + n), f"TEST {kind.capitalize()} {n:03d}", kind)
        for n in range(max(0, count - len(base)))
        for kind in (("gemeente", "waterschap")[n % 2],)
    )
    return (base + extra)[:count]


def _failure(tenant: Tenant, result: FlowResult | E2eSetupError) -> str | None:
    if isinstance(result, E2eSetupError):
        return f"{tenant.oin}: {result}"
    bad = errors(result.findings)
    if bad or result.ophalen is None or not result.ophalen.complete:
        return f"{tenant.oin}: " + ("; ".join(str(f) for f in bad[:2]) or "not fetched")
    return None


def measure(pki: TestPki, count: int, folder: Path) -> Measured:
    """One local run over ``count`` tenants on a fresh simulator."""
    started = time.perf_counter()
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
            flows_started = time.perf_counter()
            results = runs.flows(acting)
            flows = time.perf_counter() - flows_started
        finally:
            runs.close()
            chain.close()
    finally:
        sim.stop()
    failed = tuple(f for t, r in zip(acting, results, strict=True)
                   if (f := _failure(t, r)) is not None)
    return Measured(count, time.perf_counter() - started, flows, failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="3 and 40 tenants (smoke run).")
    args = parser.parse_args(argv)
    large = 40 if args.quick else LARGE
    pki = build_test_pki(key_type="ec256")
    ok = True
    measured = []
    with tempfile.TemporaryDirectory(prefix="dso-bench-tenants-") as tmp:
        for count in (SMALL, large):
            one = measure(pki, count, Path(tmp) / f"n{count}")
            measured.append(one)
            good = not one.failed
            ok &= good
            print(f"{one.tenants} tenants: {one.total:.2f} s for the whole local run, "
                  f"{one.flows:.2f} s for the flows; {len(one.failed)} failed "
                  f"{'PASS' if good else 'FAIL'}")
            for text in one.failed[:3]:
                print(f"    {text}")
    small, big = measured
    ratio = big.total / small.total
    within = ratio <= RATIO_TARGET
    ok &= within
    print(f"ratio {big.tenants}/{small.tenants} tenants = {ratio:.2f} for the whole run "
          f"({big.flows / small.flows:.2f} for the flows alone; target <= {RATIO_TARGET:g} for "
          f"the whole run) {'PASS' if within else 'FAIL'}")
    print("overall", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
