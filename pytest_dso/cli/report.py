"""``dso-report``: render the Allure results into one offline HTML file, build the
DSO-Beheer ticket bundle, and verify a bundle's manifest.

    dso-report [render] [--results DIR] [--output FILE] [--strict] [--no-install]
    dso-report bundle --ticket NUMMER [--results DIR] [--output DIR] [--no-render] [--strict]
    dso-report verify DIR
    dso-report add-screenshot --ticket NUMMER --step "PRE 4.2" [--tenant OIN] FILE

``add-screenshot`` puts a screenshot of the verzoek in the VTH- or zaaksysteem into the bundle
as the evidence of PRE 4.2 (or PROD 7) and rebuilds the summary, so the mail that needs it can
become ready.

Without Node.js/npm, ``render`` and ``bundle`` say what is missing and exit 0 (the results
folder is the primary evidence); with ``--strict`` they exit 3.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

DEFAULT_RESULTS = Path("reports") / "allure-results"
DEFAULT_HTML = Path("reports") / "allure-report.html"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dso-report",
        description="Render pytest-dso evidence: one offline HTML report, the DSO-Beheer "
        "ticket bundle, or a manifest check.",
    )
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--results",
            type=Path,
            default=DEFAULT_RESULTS,
            help=f"Allure results folder. Default: {DEFAULT_RESULTS}",
        )
        p.add_argument(
            "--strict",
            action="store_true",
            help="Exit non-zero (3) when Node.js/npm are missing instead of only saying so",
        )
        p.add_argument(
            "--no-install",
            action="store_true",
            help="Do not run npm to install the pinned allure package when it is missing",
        )

    render = sub.add_parser("render", help="Render the results into one HTML file (default)")
    common(render)
    render.add_argument(
        "--output", type=Path, default=DEFAULT_HTML, help=f"HTML file. Default: {DEFAULT_HTML}"
    )
    bundle = sub.add_parser("bundle", help="Build the ticket bundle reports/<ticket>/")
    common(bundle)
    bundle.add_argument("--ticket", required=True, help="DSO-Beheer ticket number")
    bundle.add_argument(
        "--output",
        type=Path,
        default=Path("reports"),
        help="Folder that gets <ticket>/. Default: reports",
    )
    bundle.add_argument(
        "--no-render", action="store_true", help="Do not render the HTML report into the bundle"
    )
    bundle.add_argument(
        "--no-chromium", action="store_true", help="Do not make a PNG/PDF of the summary"
    )
    verify = sub.add_parser("verify", help="Check a bundle against its MANIFEST.sha256")
    verify.add_argument("folder", type=Path, help="The bundle folder")
    shot = sub.add_parser(
        "add-screenshot",
        help="Add a screenshot (PNG, JPEG or PDF) as the evidence of PRE 4.2 or PROD 7 and "
        "rebuild the summary",
    )
    common(shot)
    shot.add_argument("--ticket", required=True, help="DSO-Beheer ticket number")
    shot.add_argument("--step", required=True, help="The step it proves: 'PRE 4.2' or 'PROD 7'")
    shot.add_argument("--tenant", default="", help="OIN of the bevoegd gezag it shows")
    shot.add_argument(
        "--output", type=Path, default=Path("reports"), help="Folder holding <ticket>/. "
        "Default: reports",
    )
    shot.add_argument("image", type=Path, help="The screenshot file")
    return parser


def _render(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_dso.evidence.render import render_single_file

    result = render_single_file(args.results, args.output, install=not args.no_install)
    print(
        ("dso-report: " if result.ok else "dso-report: cannot render: ") + result.message, file=out
    )
    if result.ok:
        return EXIT_OK
    if result.unavailable:
        return EXIT_UNAVAILABLE if args.strict else EXIT_OK
    return EXIT_FAILED


def _bundle(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_dso.evidence.bundle import REPORT_HTML, build_bundle
    from pytest_dso.evidence.render import render_single_file

    unavailable = False
    report: Path | None = None
    if not args.no_render:
        staged = args.output / ".dso-report-staging.html"
        result = render_single_file(args.results, staged, install=not args.no_install)
        if result.ok:
            report = staged
        else:
            unavailable = result.unavailable
            print(f"dso-report: {REPORT_HTML} not rendered: {result.message}", file=out)
    try:
        outcome = build_bundle(
            args.results,
            args.output,
            args.ticket,
            render=False,
            report_html=report,
            chromium=not args.no_chromium,
        )
    except (OSError, ValueError) as exc:
        print(f"dso-report: cannot build the bundle: {exc}", file=out)
        return EXIT_FAILED
    finally:
        if report is not None:
            report.unlink(missing_ok=True)
    print(f"dso-report: ticket bundle written to {outcome.folder}", file=out)
    for note in outcome.notes:
        print(f"  note: {note}", file=out)
    if unavailable and args.strict:
        return EXIT_UNAVAILABLE
    return EXIT_OK


def _add_screenshot(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_dso.evidence.bundle import REPORT_HTML, add_screenshot, build_bundle, safe_ticket

    folder = args.output / safe_ticket(args.ticket)
    try:
        target = add_screenshot(folder, args.step, args.image, args.tenant)
    except ValueError as exc:
        print(f"dso-report: cannot add the screenshot: {exc}", file=out)
        return EXIT_USAGE
    report = folder / REPORT_HTML
    staged = args.output / ".dso-report-staging.html"
    try:
        if report.is_file():
            staged.write_bytes(report.read_bytes())
        outcome = build_bundle(args.results, args.output, args.ticket, render=False,
                               report_html=staged if staged.is_file() else None)
    except (OSError, ValueError) as exc:
        print(f"dso-report: screenshot added as {target}, but the bundle was not rebuilt: {exc}",
              file=out)
        return EXIT_FAILED
    finally:
        staged.unlink(missing_ok=True)
    print(f"dso-report: {target.name} added to {outcome.folder}; summary rebuilt", file=out)
    return EXIT_OK


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    from pytest_dso.evidence.manifest import verify_manifest

    if not args.folder.is_dir():
        print(f"dso-report: {args.folder} is not a folder", file=out)
        return EXIT_USAGE
    problems = verify_manifest(args.folder)
    if problems:
        print(f"dso-report: {args.folder} does NOT match its manifest:", file=out)
        for problem in problems:
            print(f"  - {problem}", file=out)
        return EXIT_FAILED
    print(f"dso-report: {args.folder} matches its manifest", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``dso-report``; returns the exit code."""
    out = sys.stdout if out is None else out
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "render")
    args = _parser().parse_args(args_list)
    if args.command == "bundle":
        return _bundle(args, out)
    if args.command == "verify":
        return _verify(args, out)
    if args.command == "add-screenshot":
        return _add_screenshot(args, out)
    return _render(args, out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
