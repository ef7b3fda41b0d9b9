"""Benchmark of the transport bounds under attack, on loopback.

A legitimate client sends GET requests (a fresh connection each) to an mTLS
:class:`~pytest_dso.transport.server.HttpsServer` first undisturbed, then while a slowloris
holds far more connections than the cap (half of them stuck in the TLS handshake, half with a
request head that never ends). Measured in one run:

1. the legitimate client's p99 latency under attack: < 1 s, and at most 20x the undisturbed
   p99 (ratio);
2. server threads during the attack: at most ``max_connections`` + ``overflow`` + 2;
3. every legitimate request answered 200.

Prints each measurement with PASS/FAIL and exits 1 on any FAIL. ``--quick`` runs smaller
numbers. Every phase has a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time

from pytest_dso.pkio.testpki import build_test_pki
from pytest_dso.transport.api import Route
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import HttpsServer, Limits, Response

LATENCY_LIMIT_S = 1.0
RATIO_TARGET = 20.0


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _requests(client_factory: type[HttpClient], pki: object, url: str, count: int,
              deadline: float) -> tuple[list[float], int]:
    times: list[float] = []
    failures = 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        with HttpClient.for_identity(pki.identity("digikoppelaar"),  # type: ignore[attr-defined]
                                     pki.hierarchy.anchors) as client:  # type: ignore[attr-defined]
            started = time.perf_counter()
            answer = client.get(url)
            times.append(time.perf_counter() - started)
            failures += answer.status != 200
    return times, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="smaller numbers (a smoke run)")
    args = parser.parse_args(argv)
    attackers = 300 if args.quick else 2000
    requests = 20 if args.quick else 100
    limits = Limits(max_connections=128, overflow=16)
    pki = build_test_pki(key_type="ec256")
    context = pki.identity("dso-lv").server_context(pki.hierarchy.anchors)
    server = HttpsServer(context, routes=(Route("GET", "/", lambda r: Response.text("ok")),),
                         limits=limits).start()
    url = server.url + "/"
    socks: list[socket.socket] = []
    tls_client = pki.identity("waterschap").client_context(pki.hierarchy.anchors)
    try:
        base, base_failures = _requests(HttpClient, pki, url, requests, time.monotonic() + 60)
        threads_before = threading.active_count()
        stop = threading.Event()

        def attack() -> None:
            for n in range(attackers):
                if stop.is_set():
                    return
                with contextlib.suppress(OSError):
                    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                    if n % 2:
                        tls = tls_client.wrap_socket(raw, server_hostname="127.0.0.1")
                        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                        socks.append(tls)
                    else:
                        socks.append(raw)  # never starts the handshake

        attacker = threading.Thread(target=attack, daemon=True)
        attacker.start()
        time.sleep(1.0)
        peak = threading.active_count() - threads_before
        under, failures = _requests(HttpClient, pki, url, requests, time.monotonic() + 120)
        peak = max(peak, threading.active_count() - threads_before)
        stop.set()
        attacker.join(60)
        stats = server.stats()
    finally:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
        server.stop()
    p99_base, p99_under = _p99(base), _p99(under)
    ratio = p99_under / p99_base if p99_base else float("inf")
    thread_cap = limits.max_connections + limits.overflow + 2
    checks = [
        (p99_under < LATENCY_LIMIT_S and ratio <= RATIO_TARGET,
         f"p99 under attack {p99_under * 1000:.0f} ms (undisturbed {p99_base * 1000:.0f} ms, "
         f"ratio {ratio:.1f}; targets < {LATENCY_LIMIT_S * 1000:.0f} ms, <= {RATIO_TARGET:g}x)"),
        (peak <= thread_cap, f"server threads during the attack: {peak} (cap {thread_cap})"),
        (failures + base_failures == 0 and len(under) == requests,
         f"legitimate requests answered 200: {len(under) - failures}/{requests}"),
    ]
    print(f"attack: {len(socks)} connections held; server evicted {stats.evicted}, "
          f"refused {stats.refused}, timed out {stats.timeouts}")
    for ok, text in checks:
        print(f"{_verdict(ok)} {text}")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
