"""``dso-cpa``: CPA tasks outside pytest.

Sub-commands:

- ``lint FILE``: the CPA checks of ``suites/test_cpa.py`` on one CPA file, without pytest or a
  network: validity, certificates (and, with ``--cert``, that yours is in it), party ids for
  ``--env``, endpoints, crypto, naming, MSH channels and reliable messaging. Exit status: 0 no
  error (warnings are printed), 1 an error, 2 a file that is not a CPA or a usage problem.
- ``offer``: offer the CPA (``[ebms] cpa`` or ``--cpa``) to DSO-LV through CPA aanbieden
  with the ``[certificate]`` of dso.toml (PRE 2.4, PROD 3 "CPA inladen"). It changes state, so
  it needs ``--allow-writes`` (PRE) or ``--allow-prod-writes`` (PROD). The response is written
  as evidence to ``<output>/cpa-aanbieden-<env>.json`` and summarised on stdout.

For ``offer``, settings are resolved as in pytest: options, then ``DSO_*`` environment
variables, then dso.toml. Exit status: 0 accepted, 1 refused or failed, 2 a usage or
configuration problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

from pytest_dso.dsofile import ConfigError
from pytest_dso.findings import errors, render


class _Options:
    """The ``getoption``/``getini`` view :func:`resolve_settings` reads, from argparse."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._values = {
            "dso_config": args.config,
            "dso_env": args.env,
            "dso_allow_writes": args.allow_writes or None,
            "dso_allow_prod_writes": args.allow_prod_writes or None,
            "dso_output": args.output,
        }

    def getoption(self, name: str) -> Any:
        return self._values.get(name)

    def getini(self, name: str) -> Any:
        return None

    @property
    def rootpath(self) -> Path:
        return Path.cwd()

    @property
    def invocation_params(self) -> Any:
        return SimpleNamespace(dir=Path.cwd())


def build_parser() -> argparse.ArgumentParser:
    """The ``dso-cpa`` argument parser."""
    parser = argparse.ArgumentParser(prog="dso-cpa", description="CPA tasks of pytest-dso.")
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint", help="Check a CPA file against the Digikoppeling and DSO "
                          "rules (no network)")
    lint.add_argument("cpa", type=Path, metavar="FILE", help="The CPA (XML)")
    lint.add_argument("--env", choices=("local", "pre", "prod"), default="pre",
                      help="The environment whose rules apply (OTAP suffix of the party ids, "
                      "endpoints). Default: pre")
    lint.add_argument("--cert", type=Path, metavar="PEM",
                      help="Your certificate: the CPA must hold it for the party of its OIN")
    lint.add_argument("--expiry-warning-days", type=int, default=30, metavar="DAYS",
                      help="Warn when the CPA or a certificate in it ends within DAYS. "
                      "Default: 30")
    offer = sub.add_parser("offer", help="Offer the CPA to DSO-LV through CPA aanbieden")
    offer.add_argument("--config", help="dso.toml to use. Default: ./dso.toml")
    offer.add_argument("--env", choices=("local", "pre", "prod"),
                       help="Environment. Default: from DSO_ENV or dso.toml")
    offer.add_argument("--cpa", help="The CPA to offer. Default: [ebms] cpa")
    offer.add_argument("--allow-writes", action="store_true",
                       help="Allow the state change on PRE")
    offer.add_argument("--allow-prod-writes", action="store_true",
                       help="Allow the state change on PROD (separate on purpose)")
    offer.add_argument("--output", help="Folder for the evidence. Default: [dso] output")
    return parser


class CliError(Exception):
    """A usage or configuration problem; printed without a traceback, exit status 2."""


def cmd_offer(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-cpa offer``."""
    from pytest_dso.dso.cpa_aanbieden import offer_cpa
    from pytest_dso.dso.rest import RestConfig, RestSession
    from pytest_dso.ebms.cpa import CpaError, parse_cpa
    from pytest_dso.environments import profile
    from pytest_dso.pkio.load import load_ca_bundle, load_configured_identity
    from pytest_dso.settings import SettingError, resolve_settings

    try:
        settings = resolve_settings(_Options(args))
    except (SettingError, ConfigError) as exc:
        raise CliError(str(exc)) from None
    cert = settings.file.certificate
    if cert is None:
        raise CliError("dso.toml has no [certificate]: CPA aanbieden needs your PKIoverheid "
                       "certificate (with OIN or HRN)")
    path = Path(args.cpa) if args.cpa else settings.file.ebms.cpa
    if path is None:
        raise CliError("no CPA: give --cpa or set [ebms] cpa in dso.toml")
    try:
        cpa_xml = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the CPA {path}: {exc.strerror or exc}") from None
    try:
        cpa_id: str | None = parse_cpa(cpa_xml).cpa_id
    except CpaError as exc:
        raise CliError(f"the CPA {path} cannot be used: {exc}") from None
    identity, findings = load_configured_identity(cert)
    if identity is None or errors(findings):
        raise CliError(f"cannot load [certificate]:\n{render(findings)}")
    trust: tuple[Any, ...] = ()
    if cert.ca_bundle is not None:
        anchors, found = load_ca_bundle(cert.ca_bundle)
        if errors(found):
            raise CliError(f"cannot load [certificate] ca_bundle:\n{render(found)}")
        trust = tuple(anchors)
    environment = profile(settings.env).with_base_urls(settings.file.api.base_urls)
    rest = RestConfig.from_settings(settings, environment)
    with RestSession(rest, identity, trust or None) as session:
        offer = offer_cpa(session, cpa_xml, writes_allowed=settings.writes_allowed(),
                          cpa_id=cpa_id)
    if any(f.check == "cpa.offer.not_allowed" for f in offer.findings):
        raise CliError(render(list(offer.findings)).replace("--dso-allow", "--allow"))
    target = settings.output_dir / f"cpa-aanbieden-{settings.env}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {"env": settings.env, "ticket": settings.ticket, "cpa": str(path),
              **offer.evidence()}
    target.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    print(render(list(offer.findings)), file=out)
    print(f"evidence: {target}", file=out)
    return 0 if offer.accepted else 1


def cmd_lint(args: argparse.Namespace, out: TextIO) -> int:
    """``dso-cpa lint``."""
    import datetime as dt

    from pytest_dso.ebms.cpa import CpaError, load_cpa
    from pytest_dso.ebms.cpa_lint import lint_cpa
    from pytest_dso.findings import Severity, warnings_of
    from pytest_dso.pkio.load import load_certificates

    if args.expiry_warning_days < 0:
        raise CliError("--expiry-warning-days must be 0 or more")
    try:
        cpa = load_cpa(args.cpa)
    except CpaError as exc:
        where = f" (at {exc.where})" if exc.where and exc.where != str(args.cpa) else ""
        raise CliError(f"{exc.message}{where}") from None
    mine = None
    if args.cert is not None:
        certificates, found = load_certificates(args.cert, "certificate file")
        if errors(found) or not certificates:
            raise CliError(f"cannot load --cert {args.cert}:\n{render(found)}")
        mine = certificates[0]
    findings = lint_cpa(cpa, now=dt.datetime.now(dt.UTC), env=args.env,
                        configured_identity_cert=mine,
                        expiry_warning_days=args.expiry_warning_days)
    bad, warned = errors(findings), warnings_of(findings)
    print(f"CPA {cpa.cpa_id} ({args.cpa}), rules of {args.env.upper()}: "
          f"{len(bad)} error(s), {len(warned)} warning(s)", file=out)
    shown = [f for f in findings if f.severity >= Severity.WARNING]
    if shown:
        print(render(shown), file=out)
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dso-cpa``."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "lint":
            return cmd_lint(args, sys.stdout)
        return cmd_offer(args, sys.stdout)
    except CliError as exc:
        print(f"dso-cpa: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
