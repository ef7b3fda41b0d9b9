"""The DSO-Beheer ticket bundle: ``<output>/<ticket>/`` with a Dutch summary (HTML and
Markdown) per tenant and step, the aansluitproces progress as an SVG picture, the proposed
mails, the single-file HTML report where it could be rendered, a PNG/PDF of the summary where
a headless Chromium exists, and ``MANIFEST.sha256``.

Everything is derived from the Allure results folder (``*-result.json`` and
``environment.properties``), so a run with or without xdist gives the same bundle.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_dso.evidence.manifest import MANIFEST_NAME, write_manifest
from pytest_dso.evidence.progress import (
    FAILED,
    MAIL_STEPS,
    OPEN,
    PROVEN,
    STAGES,
    MailStep,
    Tenant,
    mail_status,
    outcomes_for,
    parse_step,
    processes_for,
    progress_svg,
    stage_status,
)
from pytest_dso.evidence.redaction import Redactor
from pytest_dso.evidence.results import TestOutcome, load_results, read_environment

SUMMARY_MD = "samenvatting.md"
SUMMARY_HTML = "samenvatting.html"
REPORT_HTML = "testrapport.html"
NOTES = "NOTITIES.txt"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT = 90.0

_OUTCOME_NL = {
    "passed": "geslaagd",
    "failed": "mislukt",
    "broken": "fout",
    "skipped": "overgeslagen",
    "unknown": "onbekend",
}
_ENV_NL = {"LOCAL": "lokaal (ingebouwde simulator)", "PRE": "PRE", "PROD": "PROD (productie)"}


@dataclass(frozen=True)
class BundleOutcome:
    """What :func:`build_bundle` made."""

    folder: Path
    files: tuple[str, ...]
    notes: tuple[str, ...]
    report_html: Path | None


@dataclass(frozen=True)
class MailProposal:
    """A proposed mail to DSO-Beheer."""

    step: MailStep
    subject: str
    body: str
    status: str


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_ticket(ticket: str) -> str:
    """The ticket number as a folder name (letters, digits, ``-`` and ``_``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", ticket.strip()).strip("-")
    if not cleaned:
        raise ValueError(f"ticket {ticket!r} gives no usable folder name")
    return cleaned


def tenants_of(props: dict[str, str], outcomes: Sequence[TestOutcome]) -> list[Tenant | None]:
    """The tenants of the run: from ``environment.properties``, plus any labelled in the
    results; ``[None]`` when the run was not about specific tenants."""
    found: dict[str, Tenant] = {}
    for key in sorted(k for k in props if k.startswith("tenant.")):
        oin, _, rest = props[key].partition("|")
        name = rest.partition("|")[0]
        if oin:
            found[oin] = Tenant(oin, name or oin)
    for outcome in outcomes:
        if outcome.tenant and outcome.tenant not in found:
            found[outcome.tenant] = Tenant(outcome.tenant, outcome.tenant_name or outcome.tenant)
    return list(found.values()) or [None]


def _sort_key(outcome: TestOutcome) -> tuple[str, int, str, str]:
    step = parse_step(outcome.step)
    return (
        step[0] if step else "~",
        step[1] if step else 99,
        outcome.step or "",
        outcome.full_name + outcome.name,
    )


def _window(outcomes: Sequence[TestOutcome]) -> str:
    starts = [o.start for o in outcomes if o.start]
    stops = [o.stop for o in outcomes if o.stop]
    if not starts:
        return "-"
    return f"{_time(min(starts))} tot {_time(max(stops) if stops else None)}"


def _verzoeknummers(outcomes: Sequence[TestOutcome], props: dict[str, str]) -> list[str]:
    numbers = sorted({o.verzoeknummer for o in outcomes if o.verzoeknummer})
    if not numbers and props.get("verzoeknummer"):
        numbers = [props["verzoeknummer"]]
    return numbers


def propose_mails(
    ticket: str,
    env: str,
    tenants: Sequence[Tenant | None],
    outcomes: Sequence[TestOutcome],
    props: dict[str, str],
) -> list[MailProposal]:
    """The mails for the processes of this run, each with its readiness."""
    proposals = []
    processes = processes_for(env)
    for mail in MAIL_STEPS:
        if mail.process not in processes:
            continue
        stage_titles = {s.number: s.title for s in STAGES[mail.process]}
        lines: list[str] = []
        statuses: list[str] = []
        relevant: list[TestOutcome] = []
        for tenant in tenants:
            mine = outcomes_for(tenant, outcomes)
            status = mail_status(mail, mine)
            statuses.append(status)
            proving = [
                o
                for o in mine
                if any(
                    (p := parse_step(step)) and p[0] == mail.process and p[1] in mail.proven_by
                    for step in o.steps
                )
            ]
            relevant.extend(proving)
            who = "alle tests" if tenant is None else f"{tenant.name} (OIN {tenant.oin})"
            extra = ""
            numbers = _verzoeknummers(proving, props)
            if numbers and mail.proven_by[-1] >= 4:
                extra = f", verzoeknummer {', '.join(numbers)}"
            lines.append(f"- {who}: {status}{extra}")
        overall = (
            FAILED if FAILED in statuses else PROVEN if all(s == PROVEN for s in statuses) else OPEN
        )
        subject = mail.subject.format(ticket=ticket)
        needed = ", ".join(f"{mail.process} {n} {stage_titles[n]}" for n in mail.proven_by)
        readiness = (
            "Klaar om te versturen."
            if overall == PROVEN
            else f"Nog niet versturen: {needed} is nog niet voor iedereen aangetoond ({overall})."
        )
        leverancier = props.get("leverancier", "[naam leverancier]")
        body = "\n".join(
            [
                "Beste DSO-Beheer,",
                "",
                mail.intro,
                "",
                f"Ticketnummer: {ticket}",
                f"Omgeving: {_ENV_NL.get(env, env)}",
                f"Leverancier: {leverancier}",
                "Bevoegd gezag / behandeldienst:",
                *lines,
                f"Tijdstip van de tests: {_window(relevant)}",
                "",
                f"Bewijs: {mail.evidence}",
                f"Bijgevoegd: {SUMMARY_HTML} en {REPORT_HTML} uit de bewijsmap; {MANIFEST_NAME} "
                "bevat de controlegetallen (sha256) van alle bestanden.",
                "",
                "Met vriendelijke groet,",
                "",
                "[naam, organisatie, telefoonnummer]",
            ]
        )
        proposals.append(MailProposal(mail, subject, body, readiness))
    return proposals


@dataclass(frozen=True)
class _Summary:
    ticket: str
    env: str
    props: dict[str, str]
    tenants: list[Tenant | None]
    outcomes: list[TestOutcome]
    mails: list[MailProposal]
    svgs: list[str]
    has_report: bool
    made: str


def _rows(tenant: Tenant | None, outcomes: Sequence[TestOutcome]) -> list[list[str]]:
    rows = []
    for outcome in sorted(outcomes_for(tenant, outcomes), key=_sort_key):
        rows.append(
            [
                ", ".join(outcome.steps) or "-",
                outcome.name,
                _OUTCOME_NL.get(outcome.status, outcome.status),
                _time(outcome.start),
                _time(outcome.stop),
                outcome.verzoeknummer or "-",
            ]
        )
    return rows


_HEAD = ["Stap", "Test", "Uitkomst", "Start", "Einde", "Verzoeknummer"]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _facts(s: _Summary) -> list[tuple[str, str]]:
    return [
        ("Ticketnummer", s.ticket),
        ("Omgeving", _ENV_NL.get(s.env, s.env)),
        ("Leverancier", s.props.get("leverancier", "-")),
        ("Run", f"{s.props.get('run.id', '-')} gestart {s.props.get('run.start', '-')}"),
        ("Certificaat", s.props.get("certificaat.subject", s.props.get("certificaat", "-"))),
        ("Vingerafdruk (sha256)", s.props.get("certificaat.sha256", "-")),
        ("Samenvatting gemaakt", s.made),
    ]


def _stage_lines(tenant: Tenant | None, s: _Summary) -> list[str]:
    mine = outcomes_for(tenant, s.outcomes)
    lines = []
    for process in processes_for(s.env):
        for stage in STAGES[process]:
            lines.append(f"{process} {stage.number} {stage.title}: {stage_status(stage, mine)}")
    return lines


def summary_markdown(s: _Summary) -> str:
    """The summary as Markdown."""
    out = [f"# Bewijs aansluiting STAM-koppelvlak, ticket {s.ticket}", ""]
    if s.env == "LOCAL":
        out += [
            "> Let op: deze run is gedaan tegen de ingebouwde simulator (lokaal). Dit is een "
            "voorbereiding, geen bewijs voor DSO-Beheer.",
            "",
        ]
    out += [f"- **{k}**: {_md_cell(v)}" for k, v in _facts(s)]
    out += ["", "## Voortgang aansluitproces", ""]
    out.append("Zie de afbeelding in samenvatting.html (voortgang-*.svg).")
    for tenant in s.tenants:
        who = "Alle tests" if tenant is None else f"{tenant.name} (OIN {tenant.oin})"
        out += ["", f"## {who}", ""]
        out += [f"- {line}" for line in _stage_lines(tenant, s)]
        numbers = _verzoeknummers(outcomes_for(tenant, s.outcomes), s.props)
        out += [f"- Verzoeknummer(s): {', '.join(numbers) or '-'}", ""]
        out.append("| " + " | ".join(_HEAD) + " |")
        out.append("|" + "---|" * len(_HEAD))
        for row in _rows(tenant, s.outcomes):
            out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    out += ["", "## Voorgestelde mails aan dso-beheer@rws.nl", ""]
    if not s.mails:
        out.append("Geen: deze run hoort bij geen stap waarvoor een mail nodig is.")
    for mail in s.mails:
        out += [
            f"### Onderwerp: {mail.subject}",
            "",
            f"*{mail.status}*",
            "",
            "```text",
            mail.body,
            "```",
            "",
        ]
    out += [
        "## Bestanden",
        "",
        f"- {SUMMARY_HTML} / {SUMMARY_MD}: deze samenvatting",
        f"- {REPORT_HTML}: het volledige testrapport (één bestand, opent zonder internet)"
        if s.has_report
        else f"- {REPORT_HTML}: niet gemaakt (zie {NOTES})",
        "- uitkomsten.json: de uitkomsten per test, machineleesbaar",
        f"- {MANIFEST_NAME}: sha256 van elk bestand; controleer met `dso-report verify <map>` "
        f"of `sha256sum -c {MANIFEST_NAME}`",
        "",
    ]
    return "\n".join(out)


_CSS = """
body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;font-size:13px}
th{background:#eee}.geslaagd{color:#2e7d32}.mislukt,.fout{color:#c62828}
.warn{background:#fff3cd;padding:.6em;border:1px solid #e0c36a}
pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}
"""


def summary_html(s: _Summary) -> str:
    """The summary as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>Bewijs aansluiting STAM-koppelvlak, ticket {e(s.ticket)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Bewijs aansluiting STAM-koppelvlak, ticket {e(s.ticket)}</h1>",
    ]
    if s.env == "LOCAL":
        out.append(
            '<p class="warn">Let op: deze run is gedaan tegen de ingebouwde simulator (lokaal). '
            "Dit is een voorbereiding, geen bewijs voor DSO-Beheer.</p>"
        )
    out.append("<table>")
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _facts(s)]
    out += ["</table>", "<h2>Voortgang aansluitproces</h2>", *s.svgs]
    for tenant in s.tenants:
        who = "Alle tests" if tenant is None else f"{tenant.name} (OIN {tenant.oin})"
        out.append(f"<h2>{e(who)}</h2><ul>")
        out += [f"<li>{e(line)}</li>" for line in _stage_lines(tenant, s)]
        numbers = _verzoeknummers(outcomes_for(tenant, s.outcomes), s.props)
        out.append(f"<li>Verzoeknummer(s): {e(', '.join(numbers) or '-')}</li></ul>")
        out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in _HEAD) + "</tr>")
        for row in _rows(tenant, s.outcomes):
            cells = "".join(
                f'<td class="{e(c)}">{e(c)}</td>' if i == 2 else f"<td>{e(c)}</td>"
                for i, c in enumerate(row)
            )
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    out.append("<h2>Voorgestelde mails aan dso-beheer@rws.nl</h2>")
    if not s.mails:
        out.append("<p>Geen: deze run hoort bij geen stap waarvoor een mail nodig is.</p>")
    for mail in s.mails:
        out.append(f"<h3>Onderwerp: {e(mail.subject)}</h3><p><em>{e(mail.status)}</em></p>")
        out.append(f"<pre>{e(mail.body)}</pre>")
    report = (
        f'<a href="{REPORT_HTML}">{REPORT_HTML}</a>: het volledige testrapport'
        if s.has_report
        else f"{REPORT_HTML}: niet gemaakt (zie {NOTES})"
    )
    out.append(f"<h2>Bestanden</h2><ul><li>{report}</li>")
    out.append(f"<li>{MANIFEST_NAME}: sha256 van elk bestand (dso-report verify)</li></ul>")
    out.append("</body></html>")
    return "\n".join(out)


def find_chromium() -> str | None:
    """A headless-capable Chromium on PATH, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium(binary: str, page: Path, folder: Path) -> list[str]:
    notes = []
    url = page.absolute().as_uri()
    base = [binary, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars"]
    jobs = {
        "samenvatting.png": [
            *base,
            "--window-size=1280,2000",
            f"--screenshot={folder / 'samenvatting.png'}",
            url,
        ],
        "samenvatting.pdf": [*base, f"--print-to-pdf={folder / 'samenvatting.pdf'}", url],
    }
    for name, command in jobs.items():
        try:
            subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"{name} niet gemaakt: {binary} faalde ({type(exc).__name__})")
            continue
        if not (folder / name).is_file():
            notes.append(f"{name} niet gemaakt: {binary} schreef geen bestand")
    return notes


def _prepare(folder: Path) -> None:
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"{folder} exists and is not a folder")
        if any(folder.iterdir()) and not (folder / MANIFEST_NAME).is_file():
            raise ValueError(
                f"{folder} exists and is not a pytest-dso bundle (no {MANIFEST_NAME}); "
                "move it away or choose another output folder"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def build_bundle(
    results_dir: Path,
    output_root: Path,
    ticket: str,
    *,
    render: bool = True,
    install: bool = False,
    report_html: Path | None = None,
    redactor: Redactor | None = None,
    chromium: str | bool | None = True,
) -> BundleOutcome:
    """Write ``output_root/<ticket>/`` from the Allure results in ``results_dir``.

    ``report_html`` is an already rendered single-file report to include; otherwise, with
    ``render``, the report is rendered (``install`` allows installing the pinned npm package
    first). ``chromium`` is a Chromium binary, ``True`` to look on PATH, ``False`` to skip.
    """
    if not results_dir.is_dir():
        raise ValueError(f"no Allure results folder at {results_dir}")
    redactor = redactor or Redactor()
    folder = output_root / safe_ticket(ticket)
    _prepare(folder)
    props = read_environment(results_dir)
    outcomes = load_results(results_dir)
    env = (props.get("omgeving") or "LOCAL").upper()
    tenants = tenants_of(props, outcomes)
    notes: list[str] = []

    report: Path | None = None
    target = folder / REPORT_HTML
    if report_html is not None and report_html.is_file():
        shutil.copyfile(report_html, target)
        report = target
    elif render:
        from pytest_dso.evidence.render import render_single_file

        rendered = render_single_file(
            results_dir, target, name=f"DSO-LV {env} {ticket}", install=install
        )
        report = rendered.html
        if report is None:
            notes.append(f"{REPORT_HTML} niet gemaakt: {rendered.message}")
    else:
        notes.append(
            f"{REPORT_HTML} niet gemaakt tijdens de testrun; maak het met "
            f"'dso-report bundle --ticket {ticket}' (heeft Node.js nodig)"
        )

    svgs = [progress_svg(p, tenants, outcomes) for p in processes_for(env)]
    for process, svg in zip(processes_for(env), svgs, strict=True):
        (folder / f"voortgang-{process}.svg").write_text(svg, encoding="utf-8")
    mails = propose_mails(ticket, env, tenants, outcomes, props)
    summary = _Summary(
        ticket=ticket,
        env=env,
        props=props,
        tenants=tenants,
        outcomes=outcomes,
        mails=mails,
        svgs=svgs,
        has_report=report is not None,
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    (folder / SUMMARY_MD).write_text(
        redactor.redact_text(summary_markdown(summary)), encoding="utf-8"
    )
    page = folder / SUMMARY_HTML
    page.write_text(redactor.redact_text(summary_html(summary)), encoding="utf-8")
    mail_text = "\n\n".join(
        f"Aan: dso-beheer@rws.nl\nOnderwerp: {m.subject}\n[{m.status}]\n\n{m.body}" for m in mails
    )
    (folder / "mails.txt").write_text(redactor.redact_text(mail_text) + "\n", encoding="utf-8")
    records = [
        {
            "naam": o.name,
            "volledige_naam": o.full_name,
            "stap": list(o.steps),
            "tenant": o.tenant,
            "uitkomst": o.status,
            "start": o.start,
            "einde": o.stop,
            "verzoeknummer": o.verzoeknummer,
        }
        for o in sorted(outcomes, key=_sort_key)
    ]
    (folder / "uitkomsten.json").write_text(
        redactor.redact_text(json.dumps(records, ensure_ascii=False, indent=2)), encoding="utf-8"
    )
    if (results_dir / "environment.properties").is_file():
        shutil.copyfile(results_dir / "environment.properties", folder / "omgeving.properties")

    binary = find_chromium() if chromium is True else chromium or None
    if binary:
        notes.extend(_chromium(str(binary), page, folder))
    elif chromium is not False:
        notes.append(
            "Geen PNG/PDF van de samenvatting: geen Chromium gevonden (chromium, chromium-browser "
            f"of google-chrome op PATH). Open {SUMMARY_HTML} en maak zelf een schermafdruk."
        )
    (folder / NOTES).write_text(
        ("\n".join(notes) if notes else "Geen bijzonderheden.") + "\n", encoding="utf-8"
    )
    write_manifest(folder)
    files = tuple(
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    )
    return BundleOutcome(folder, files, tuple(notes), report)
