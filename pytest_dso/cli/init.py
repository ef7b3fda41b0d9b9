"""``dso-init``: start a folder for PRE or PROD runs.

``dso-init --env pre --leverancier 00000003123456780000 --leverancier-name "VTH B.V." \\
    --bevoegd-gezag "00000001002220647000:gemeente:Gemeente Utrecht"`` writes a commented
``dso.toml`` and a scheduled CI file (``--ci github``: ``.github/workflows/dso-pre-health.yml``,
``--ci gitlab``: ``.gitlab-ci.yml``, ``--ci none``: no CI file) that installs pytest-dso with
pip, runs ``pytest --dso-env=pre -m health`` and keeps ``reports/`` as artifacts.

An existing file is never overwritten unless ``--force`` is given; then nothing is written at
all and the exit code is 1. Every value is checked (OINs, types) and the written ``dso.toml`` is
read back with the same validation as a test run.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TextIO

from pytest_dso.dsofile import ConfigError, parse_dso_toml
from pytest_dso.tenants import BG_TYPES, Tenant

_OIN = re.compile(r"^[0-9A-Za-z]{20}$")
_EXIT_OK, _EXIT_EXISTS, _EXIT_USAGE = 0, 1, 2

#: Example values: used when a flag is not given, and reproduce ``examples/<env>/dso.toml``.
EXAMPLE_LEVERANCIER = ("00000003123456780000", "Voorbeeld VTH-leverancier B.V.")
EXAMPLE_BEVOEGD_GEZAG = Tenant("00000001002220647000", "Gemeente Utrecht", "gemeente")

_ENVS = {
    "pre": {
        "ENV_TITLE": "the oefenomgeving",
        "ENV_NOTE": "# PRE: the aansluitproces steps are proven here first; checks that change "
        "state run only\n# with --dso-allow-writes.\n",
        "CPA_NOTE": "spec 348 / participant 3870",
        "TICKET": "DSO-000000",
        "EXPIRY_DAYS": "45",
        "CRON": "17 2 * * *",
        "CRON_TIME": "02:17",
    },
    "prod": {
        "ENV_TITLE": "productie",
        "ENV_NOTE": "# PROD is read-only: nothing that changes state runs unless you also pass "
        "--dso-allow-prod-writes.\n",
        "CPA_NOTE": "spec 357 / participant 4046",
        "TICKET": "DSO-000001",
        "EXPIRY_DAYS": "60",
        "CRON": "17 3 * * *",
        "CRON_TIME": "03:17",
    },
}
_CI = {
    "github": ("github-actions-health.yml.tmpl", ".github/workflows/dso-{env}-health.yml"),
    "gitlab": ("gitlab-ci-health.yml.tmpl", ".gitlab-ci.yml"),
}


class InitError(ValueError):
    """A flag value that cannot go into dso.toml."""


def parse_bevoegd_gezag(text: str) -> Tenant:
    """Read one ``--bevoegd-gezag OIN:TYPE:NAME``. Raises :class:`InitError` naming what is
    wrong."""
    parts = [p.strip() for p in text.split(":", 2)]
    if len(parts) != 3 or not all(parts):
        raise InitError(
            f"--bevoegd-gezag {text!r}: give OIN:TYPE:NAME, e.g. "
            "'00000001002220647000:gemeente:Gemeente Utrecht'"
        )
    oin, kind, name = parts
    _check_oin("--bevoegd-gezag", oin)
    if kind not in BG_TYPES:
        raise InitError(
            f"--bevoegd-gezag {text!r}: type {kind!r} is not one of {', '.join(BG_TYPES)}"
        )
    return Tenant(oin, name, kind)


def _check_oin(flag: str, oin: str) -> None:
    if not _OIN.match(oin):
        raise InitError(f"{flag} {oin!r}: an OIN has 20 characters, e.g. 00000001002220647000")


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 32 for c in escaped):
        raise InitError(f"{text!r}: control characters cannot go into dso.toml")
    return f'"{escaped}"'


def _template(name: str) -> str:
    return resources.files("pytest_dso.templates").joinpath(name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"<<{key}>>", value)
    left = re.findall(r"<<[A-Z_]+>>", text)
    assert not left, f"template placeholders without a value: {left}"
    return text


def render_dso_toml(
    env: str,
    leverancier: tuple[str, str],
    bevoegde_gezagen: Sequence[Tenant],
    ticket: str | None = None,
    host: str = "dka.voorbeeld.nl",
) -> str:
    """The commented ``dso.toml`` for ``env`` (``pre`` or ``prod``)."""
    _check_oin("--leverancier", leverancier[0])
    blocks = "\n\n".join(
        f"[[bevoegd_gezag]]\noin = {_toml_string(bg.oin)}\nname = {_toml_string(bg.name)}\n"
        f"type = {_toml_string(bg.type)}"
        for bg in bevoegde_gezagen
    )
    values = dict(_ENVS[env])
    values.update(
        ENV=env,
        ENV_UPPER=env.upper(),
        TICKET=_toml_string(ticket or values["TICKET"]),
        LEVERANCIER_OIN=leverancier[0],
        LEVERANCIER_NAME=_toml_string(leverancier[1]),
        HOST=_toml_string(host),
        BEVOEGDE_GEZAGEN=blocks,
    )
    text = _fill(_template("dso.toml.tmpl"), values)
    try:
        parse_dso_toml(text)
    except ConfigError as exc:  # a value the flags let through but dso.toml refuses
        raise InitError(str(exc)) from None
    return text


def render_ci(env: str, ci: str, requirement: str = "pytest-dso") -> tuple[str, str]:
    """``(relative path, text)`` of the scheduled health-check CI file."""
    template, path = _CI[ci]
    values = dict(_ENVS[env])
    values.update(ENV=env, ENV_UPPER=env.upper(), REQUIREMENT=requirement)
    return path.format(env=env), _fill(_template(template), values)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dso-init",
        description="Write a commented dso.toml for DSO-LV PRE or PROD and a scheduled "
        "health-check CI file. Existing files are never overwritten without --force.",
    )
    parser.add_argument("--env", choices=sorted(_ENVS), default="pre", help="Default: pre.")
    parser.add_argument(
        "--leverancier", metavar="OIN", help="OIN of the party that connects (the leverancier)."
    )
    parser.add_argument("--leverancier-name", metavar="NAME", help="Its name.")
    parser.add_argument(
        "--bevoegd-gezag",
        action="append",
        default=[],
        metavar="OIN:TYPE:NAME",
        help="A klant to test for, e.g. '00000001002220647000:gemeente:Gemeente Utrecht'. "
        "Repeat for more.",
    )
    parser.add_argument("--ticket", help="The ticketnummer DSO-Beheer gave you.")
    parser.add_argument("--host", default="dka.voorbeeld.nl", help="Your adapter's host name.")
    parser.add_argument(
        "--ci",
        choices=("github", "gitlab", "none"),
        default="github",
        help="Which CI file to write. Default: github.",
    )
    parser.add_argument(
        "--requirement",
        default="pytest-dso",
        help="What the CI job installs with pip (a version pin, a wheel URL, a git URL). "
        "Default: pytest-dso.",
    )
    parser.add_argument("--dir", type=Path, default=Path(), help="Folder to write to. Default: .")
    parser.add_argument("--force", action="store_true", help="Overwrite existing files.")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``dso-init``."""
    out = sys.stdout if out is None else out
    args = _parser().parse_args(argv)
    try:
        leverancier = (
            args.leverancier or EXAMPLE_LEVERANCIER[0],
            args.leverancier_name or EXAMPLE_LEVERANCIER[1],
        )
        gezagen = [parse_bevoegd_gezag(t) for t in args.bevoegd_gezag] or [
            EXAMPLE_BEVOEGD_GEZAG
        ]
        files = {Path("dso.toml"): render_dso_toml(
            args.env, leverancier, gezagen, args.ticket, args.host
        )}
        if args.ci != "none":
            path, text = render_ci(args.env, args.ci, args.requirement)
            files[Path(path)] = text
    except InitError as exc:
        print(f"dso-init: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    targets = {args.dir / rel: text for rel, text in files.items()}
    existing = [p for p in targets if p.exists()]
    if existing and not args.force:
        print(
            "dso-init: not written, these files exist already (nothing was changed; use "
            "--force to overwrite): " + ", ".join(str(p) for p in existing),
            file=sys.stderr,
        )
        return _EXIT_EXISTS
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"dso-init: wrote {path}", file=out)
    placeholders = not args.leverancier or not args.bevoegd_gezag
    print(
        "next: "
        + ("replace the example OINs and names in dso.toml (or give --leverancier and "
           "--bevoegd-gezag), " if placeholders else "")
        + f"put your certificate and key in secrets/ and your CPA in cpa/, then run "
        f"`pytest --dso-env={args.env}`",
        file=out,
    )
    return _EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
