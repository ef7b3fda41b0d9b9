"""``dso-sim``: run the embedded DSO-LV simulator outside pytest.

Sub-commands:

- ``serve``: start the simulator, print its URLs, the CPA and the certificates; run until
  Ctrl-C (or SIGTERM);
- ``cpa``: write the CPA for a local connection (the simulator and your DKA endpoint and
  certificate);
- ``load``: submit N verzoeken at a given rate through the simulator's indienen API, let the
  simulator deliver the verzoeknotificaties to your DKA, and report delivered, acked,
  retried, failed, lost and latency percentiles (``--json`` for machine output);
- ``certs``: the test certificates (delegates to ``dso-certs`` when installed).

Everything a run makes goes into ``--output`` (default ``reports/dso-sim``): the SQLite store,
``certs/``, ``cpa.xml``, ``api-key`` (mode 0600, never printed) and ``urls.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from cryptography import x509

from pytest_dso.ebms.cpa import CpaError
from pytest_dso.findings import errors, render
from pytest_dso.guides import guide
from pytest_dso.pkio.load import load_certificates
from pytest_dso.sim.config import LimitError, SimOptions, parse_limits
from pytest_dso.sim.faults import FaultError, parse_fault
from pytest_dso.sim.identities import IdentityError, SimIdentities, own_identities, test_pki_in
from pytest_dso.sim.store import DEFAULT_FILENAME

DEFAULT_OUTPUT = Path("reports/dso-sim")


class CliError(Exception):
    """A usage problem; printed without a traceback, exit status 2."""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _identities(args: argparse.Namespace) -> SimIdentities:
    if args.cert or args.key or args.ca_bundle:
        if not (args.cert and args.key and args.ca_bundle):
            raise CliError("own certificates need all of --cert, --key and --ca-bundle")
        return own_identities(Path(args.cert), Path(args.key), Path(args.ca_bundle),
                              Path(args.chain) if args.chain else None)
    return test_pki_in(Path(args.output) / "certs")


def _dka_certificate(args: argparse.Namespace, ids: SimIdentities) -> x509.Certificate:
    if args.dka_cert:
        certs, findings = load_certificates(Path(args.dka_cert), "DKA certificate")
        if errors(findings) or not certs:
            raise CliError(f"cannot load --dka-cert:\n{render(findings)}")
        return certs[0]
    try:
        return ids.party("digikoppelaar").certificate
    except IdentityError:
        raise CliError("give the DKA's certificate with --dka-cert (PEM)") from None


def _options(args: argparse.Namespace, ebms_port: int | None = None) -> SimOptions:
    faults = []
    for text in args.fault or ():
        try:
            faults.append(parse_fault(json.loads(text)))
        except (json.JSONDecodeError, FaultError) as exc:
            raise CliError(f"--fault {text!r}: {exc}") from None
    given: dict[str, object] = {}
    for text in getattr(args, "limit", None) or ():
        name, sep, value = text.partition("=")
        if not sep:
            raise CliError(f"--limit {text!r}: write NAME=VALUE, e.g. max_document=1000000")
        given[name.strip()] = value.strip()
    try:
        limits, quotas = parse_limits(given)
    except LimitError as exc:
        raise CliError(str(exc).replace("[simulator.limits]", "--limit")) from None
    api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
    if args.api_key_env and not api_key:
        raise CliError(f"--api-key-env {args.api_key_env}: that environment variable is empty")
    return SimOptions(
        host=args.host,
        ebms_port=ebms_port if ebms_port is not None else args.ebms_port,
        api_port=args.api_port,
        time_scale=args.time_scale,
        retry_interval=args.retry_interval,
        retries=args.retries,
        time_to_live=args.time_to_live,
        indienen_version=getattr(args, "indienen_version", "v5"),
        api_key=api_key,
        faults=tuple(faults),
        sync_reply=args.sync_reply,
        limits=limits,
        quotas=quotas,
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="Folder for store, certificates, CPA and key. "
                        f"Default: {DEFAULT_OUTPUT}")
    parser.add_argument("--host", default="127.0.0.1",
                        help="Address to listen on. Default: 127.0.0.1")
    parser.add_argument("--cert",
                        help="Your own simulator certificate (PEM) instead of the test PKI")
    parser.add_argument("--key", help="Its private key (unencrypted PEM)")
    parser.add_argument("--chain", help="Its intermediate certificates (PEM)")
    parser.add_argument("--ca-bundle", help="CA certificates the simulator trusts (PEM)")


def _serving(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ebms-port", type=int, default=None,
                        help="Port of the ebMS endpoint. Default: the simulator's port in its "
                        "CPA, else a free one")
    parser.add_argument("--api-port", type=int, default=0,
                        help="Port of the REST APIs. Default: free")
    parser.add_argument("--cpa", help="CPA to use. Default: <output>/cpa.xml when it exists")
    parser.add_argument("--dka-endpoint", help="Build a CPA for a DKA at this ebMS URL")
    parser.add_argument("--dka-cert", help="The DKA's certificate (PEM) for a built CPA")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="Multiply the CPA's RetryInterval (0.001 turns PT5M into 0.3 s). "
                        "Default: 1")
    parser.add_argument("--retry-interval", type=float, default=None,
                        help="RetryInterval in seconds (overrides the CPA)")
    parser.add_argument("--retries", type=int, default=None, help="Retries (overrides the CPA)")
    parser.add_argument("--time-to-live", type=float, default=None,
                        help="TimeToLive in seconds. Default: RetryInterval x (Retries + 1)")
    parser.add_argument("--sync-reply", default="none", choices=("none", "mshSignalsOnly"),
                        help="syncReplyMode of a CPA the simulator builds. Default: none")
    parser.add_argument("--fault", action="append",
                        help='Inject a fault, e.g. \'{"kind": "http_503", "count": 2}\' (repeat)')
    parser.add_argument("--api-key-env",
                        help="Take the x-api-key from this environment variable. Default: a "
                        "random key per run, written to <output>/api-key")
    parser.add_argument("--indienen-version", default="v5", choices=("v4", "v5"),
                        help="Verzoek indienen version to serve. Default: v5 (v4 is "
                        "deprecated)")
    parser.add_argument("--limit", action="append", metavar="NAME=VALUE",
                        help="Change a bound, e.g. max_concepts_per_client=100 or "
                        "idle_timeout=10 (repeat; names as in [simulator.limits], see "
                        f"{guide('simulator.md')})")


def build_parser() -> argparse.ArgumentParser:
    """The ``dso-sim`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="dso-sim", description="The embedded DSO-LV simulator of pytest-dso.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="Run the simulator until Ctrl-C")
    _common(serve)
    _serving(serve)
    cpa = sub.add_parser("cpa", help="Write the CPA for a local connection")
    _common(cpa)
    cpa.add_argument("--dka-endpoint", required=True, help="Your DKA's ebMS URL")
    cpa.add_argument("--dka-cert", help="Your DKA's certificate (PEM). Default: the test "
                     "PKI's Digikoppelaar")
    cpa.add_argument("--dka-oin", help="Your DKA's PartyId OIN. Default: from the certificate")
    cpa.add_argument("--ebms-port", type=int, default=None,
                     help="Port the simulator's ebMS endpoint will use. Default: a free one")
    cpa.add_argument("--sync-reply", default="none", choices=("none", "mshSignalsOnly"),
                     help="syncReplyMode. Default: none")
    cpa.add_argument("--out", help="Where to write the CPA. Default: <output>/cpa.xml")
    load = sub.add_parser("load", help="Drive N verzoeken through the simulator to a DKA")
    _common(load)
    _serving(load)
    load.add_argument("--count", type=int, default=100, help="Verzoeken to submit. Default: 100")
    load.add_argument("--rate", type=float, default=50.0, help="Verzoeken per second. Default: 50")
    load.add_argument("--bijlagen", type=int, default=0,
                      help="Generated bijlagen per verzoek. Default: 0")
    load.add_argument("--bijlage-size", type=int, default=20_000,
                      help="Size of each generated bijlage in bytes. Default: 20000")
    load.add_argument("--timeout", type=float, default=120.0,
                      help="Give up waiting after this many seconds. Default: 120")
    load.add_argument("--json", action="store_true", help="Print the report as JSON")
    certs = sub.add_parser("certs", help="Write or show the test certificates")
    certs.add_argument("--output", default=str(DEFAULT_OUTPUT))
    return parser


def cmd_cpa(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-sim cpa``."""
    from pytest_dso.sim.cpas import simulator_cpa

    ids = _identities(args)
    port = args.ebms_port or _free_port(args.host)
    ebms_url = f"https://{args.host}:{port}/ebms"
    xml = simulator_cpa(ids.server, ebms_url, args.dka_endpoint, _dka_certificate(args, ids),
                        dka_oin=args.dka_oin, sync_reply_mode=args.sync_reply)
    target = Path(args.out) if args.out else Path(args.output) / "cpa.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(xml)
    print(f"CPA written to {target}", file=out)
    print(f"simulator ebMS endpoint in the CPA: {ebms_url}", file=out)
    print(f"DKA endpoint in the CPA: {args.dka_endpoint}", file=out)
    if ids.folder is not None:
        print(f"test certificates: {ids.folder} (root.pem is the trust anchor)", file=out)
    return 0


def _start(args: argparse.Namespace) -> Any:
    from pytest_dso.sim.server import Simulator, SimulatorError

    output = Path(args.output)
    ids = _identities(args)
    cpa_file = Path(args.cpa) if args.cpa else output / "cpa.xml"
    options = _options(args, args.ebms_port or 0).with_changes(
        cpa=cpa_file if cpa_file.is_file() and not args.dka_endpoint else None
    )
    sim = Simulator(options, ids, output / DEFAULT_FILENAME)
    try:
        sim.start()
    except SimulatorError as exc:
        raise CliError(str(exc)) from None
    if args.dka_endpoint:
        try:
            sim.install_cpa(sim.local_cpa(args.dka_endpoint, _dka_certificate(args, ids)))
        except (CpaError, ValueError) as exc:
            sim.stop()
            raise CliError(f"cannot build the CPA for {args.dka_endpoint}: {exc}") from None
    _write_private(output / "api-key", sim.api_key + "\n")
    _write_private(output / "control-key", sim.control_key + "\n")
    info = {
        "ebms_url": sim.ebms_url,
        "api_base_urls": dict(sim.api_base_urls),
        "cpa": str(sim.cpa_path) if sim.cpas.all() else None,
        "api_key_file": str(output / "api-key"),
        "control_key_file": str(output / "control-key"),
        "store": str(sim.store_path),
        "certs": str(ids.folder) if ids.folder else None,
        "pid": os.getpid(),
    }
    (output / "urls.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return sim, info


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-sim serve``."""
    sim, info = _start(args)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"dso-sim ebMS endpoint: {info['ebms_url']}", file=out)
        for name, url in info["api_base_urls"].items():
            print(f"dso-sim API {name}: {url}", file=out)
        print(f"CPA: {info['cpa'] or 'none yet (use dso-sim cpa or CPA aanbieden)'}", file=out)
        if info["certs"]:
            print(f"certificates: {info['certs']} (trust anchor root.pem; simulator "
                  "dso-lv.pem; DKA digikoppelaar.pem)", file=out)
        print(f"x-api-key: in {info['api_key_file']}", file=out)
        print(f"control API /_sim (x-dso-sim-control-key): in {info['control_key_file']}",
              file=out)
        print(f"store: {info['store']}", file=out)
        print("dso-sim ready; press Ctrl-C to stop", file=out, flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.stop()
        print("dso-sim stopped", file=out, flush=True)
    return 0


def cmd_load(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-sim load``."""
    from pytest_dso.sim.loadrun import run_load

    sim, _info = _start(args)
    try:
        if not sim.cpas.all():
            raise CliError("no CPA: give --dka-endpoint (and --dka-cert) or --cpa")

        def progress(text: str) -> None:
            if not args.json:
                print(f"\r{text}", end="", file=out, flush=True)

        report = run_load(sim, args.count, args.rate, timeout=args.timeout,
                          bijlagen=args.bijlagen, bijlage_size=args.bijlage_size,
                          progress=progress)
    finally:
        sim.stop()
    if args.json:
        print(json.dumps(report.to_json(), indent=2), file=out)
    else:
        print("\n" + report.render(), file=out)
    return 0 if report.lost == 0 and report.failed == 0 else 1


def cmd_certs(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-sim certs``: the test PKI in ``<output>/certs`` (made when missing)."""
    ids = test_pki_in(Path(args.output) / "certs")
    print(f"test certificates in {ids.folder}:", file=out)
    for slug, identity in sorted(ids.parties.items()):
        print(f"  {slug}: OIN {identity.oin}, SHA-256 {identity.fingerprint_sha256[:16]}…",
              file=out)
    print("trust anchor: root.pem; keys: <slug>.key.pem (test only)", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dso-sim``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"serve": cmd_serve, "cpa": cmd_cpa, "load": cmd_load, "certs": cmd_certs}
    try:
        return commands[args.command](args, sys.stdout)
    except (CliError, IdentityError, CpaError) as exc:
        print(f"dso-sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dso-sim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
