"""Benchmark of the self-test loop: the wall time of ``python3 tasks.py test``.

Runs ``pytest tests -n 2 --dist worksteal`` (what ``tasks.py test`` runs) once, in a child
process with a time limit, and prints the wall time against the target, the number of tests,
the cores and the load average before and after (the machine may be shared: a loaded machine
makes the time longer, and the load says by how much to trust it).

Target: the whole self-test run in under 90 s on two cores.

Prints one line with PASS/FAIL and exits 1 on FAIL or when the tests fail. Extra arguments go
to pytest (e.g. ``-k options`` for a smoke run, which is then not the target's full size).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0
LIMIT_S = 1800.0


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str]) -> int:
    before = _load()
    env = dict(os.environ)  # bytecode cached outside the tree, as tasks.py test does
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".venv" / "pycache")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "tests", "-n", "2", "--dist", "worksteal", "-q",
             "-p", "no:cacheprovider", *argv],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=LIMIT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"self-tests: FAIL, not done within {LIMIT_S:g} s")
        return 1
    wall = time.monotonic() - start
    summary = next((line for line in reversed(proc.stdout.splitlines())
                    if re.search(r"\d+ (passed|failed)", line)), "no summary")
    verdict = "PASS" if wall < TARGET_S and proc.returncode == 0 else "FAIL"
    print(
        f"self-tests: {verdict} wall {wall:.1f} s (target < {TARGET_S:g} s, ratio "
        f"{wall / TARGET_S:.2f}) on {os.cpu_count()} cores; load average before {before}, "
        f"after {_load()}; {summary.strip('= ')}"
    )
    if proc.returncode != 0:
        print(proc.stdout[-4000:])
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
