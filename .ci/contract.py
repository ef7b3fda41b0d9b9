"""Contract run: schemathesis against the simulator's own OpenAPI documents.

Started by ``python3 tasks.py contract`` (and by ``.ci/run``) with the project's ``.venv``
Python. Starts ``dso-sim serve`` on 127.0.0.1 (free ports) with its test PKI, once with
indienen v5 and once with v4, and runs ``st run`` over every API's ``openapi.json`` with mutual
TLS (the gemeente's test certificate) and the run's ``x-api-key``. A bounded number of examples
per operation and a hard deadline per API keep the whole run well under two minutes on two
cores. It fails on any server error (5xx), an undocumented status or media type, a response
that does not match its schema, or an invalid request that is not refused.

The API key travels to schemathesis in a private config file (environment substitution), never
on a command line or in the output; schemathesis masks ``x-api-key`` in what it prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent
#: Examples per operation and phase; the seed makes a failure reproducible.
MAX_EXAMPLES = int(os.environ.get("DSO_CONTRACT_EXAMPLES", "15"))
SEED = os.environ.get("DSO_CONTRACT_SEED", "20260101")
#: Hard limits (seconds): the simulator's start, one API's run.
START_TIMEOUT = 60.0
API_TIMEOUT = 90.0
CHECKS = ",".join((
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
))
#: A loopback address nothing answers on: verzoeknotificaties are built and retried, never sent.
NOWHERE = "https://127.0.0.1:9/ebms"
CONFIG = 'headers = { "x-api-key" = "${DSO_CONTRACT_API_KEY}" }\n'


@contextlib.contextmanager
def simulator(folder: Path, indienen: str) -> Iterator[dict[str, object]]:
    """A running ``dso-sim serve`` writing into ``folder``; yields its ``urls.json``."""
    folder.mkdir(parents=True)
    log = (folder / "serve.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(BIN / "dso-sim"), "serve", "--output", str(folder), "--host", "127.0.0.1",
         "--api-port", "0", "--dka-endpoint", NOWHERE, "--indienen-version", indienen],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        urls = folder / "urls.json"
        deadline = time.monotonic() + START_TIMEOUT
        while not urls.is_file() or not (folder / "api-key").is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                sys.stdout.write((folder / "serve.log").read_text(encoding="utf-8"))
                raise SystemExit(f"dso-sim serve did not start within {START_TIMEOUT:g} s")
            time.sleep(0.2)
        time.sleep(0.2)  # urls.json is written in one call; give it a moment to be complete
        yield json.loads(urls.read_text(encoding="utf-8"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def run_api(name: str, base_url: str, folder: Path, env: dict[str, str]) -> bool:
    """Schemathesis over one API's document; True when it passed."""
    certs = folder / "certs"
    command = [
        str(BIN / "st"), "--config-file", str(folder.parent / "schemathesis.toml"), "--no-color",
        "run", f"{base_url}/openapi.json",
        "--tls-verify", str(certs / "root.pem"),
        "--request-cert", str(certs / "gemeente.pem"),
        "--request-cert-key", str(certs / "gemeente.key.pem"),
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", SEED,
        "--request-timeout", "10",
        "--workers", "1",
        "--generation-database", "none",
    ]
    print(f"== contract: {name} ({base_url})", flush=True)
    started = time.monotonic()
    try:
        # in the run's own folder: schemathesis keeps its working files under the cwd
        code = subprocess.run(command, env=env, timeout=API_TIMEOUT, check=False,
                              cwd=folder).returncode
    except subprocess.TimeoutExpired:
        print(f"contract: {name} did not finish within {API_TIMEOUT:g} s", flush=True)
        return False
    print(f"== contract: {name}: {'passed' if code == 0 else 'FAILED'} "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    return code == 0


def main() -> int:
    if not (BIN / "st").exists():
        print("schemathesis is not installed in this environment; run "
              "'python3 tasks.py contract' (it installs the dev extra)", file=sys.stderr)
        return 2
    started = time.monotonic()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dso-contract-") as tmp:
        root = Path(tmp)
        config = root / "schemathesis.toml"
        config.write_text(CONFIG, encoding="utf-8")
        for indienen in ("v5", "v4"):
            folder = root / f"sim-{indienen}"
            with simulator(folder, indienen) as info:
                env = {**os.environ, "DSO_CONTRACT_API_KEY":
                       (folder / "api-key").read_text(encoding="utf-8").strip()}
                bases = dict(info["api_base_urls"])  # type: ignore[call-overload]
                if indienen == "v4":
                    bases = {"indienen_v4": bases["indienen"]}
                else:
                    bases["afhandelen_v1"] = bases["afhandelen"].replace(
                        "/afhandelen/v2", "/afhandelen/v1")
                for name, base in bases.items():
                    if not run_api(name, str(base), folder, env):
                        failed.append(name)
    took = time.monotonic() - started
    if failed:
        print(f"contract: FAILED for {', '.join(failed)} ({took:.0f} s)", flush=True)
        return 1
    print(f"contract: every API passed ({took:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
