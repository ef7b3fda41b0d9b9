"""The DSO-Beheer ticket bundle: ``<output>/<ticket>/`` with a Dutch summary (HTML and
Markdown), the aansluitproces progress as an SVG picture, the proposed mails, the single-file
HTML report where it could be rendered, an A4 PDF and a PNG of the summary where a headless
Chromium exists, added screenshots, and ``MANIFEST.sha256``.

The bundle claims only what the run proved (rules in :mod:`pytest_dso.evidence.progress`):

- a run against the embedded simulator, loopback URLs or test OINs is an **oefening**: every
  page says so and no mail is ready to send;
- a PRE bundle shows PRE rows only (a PROD bundle PROD rows); tests without a step of the run's
  aansluitproces are counted, not listed (they are in the HTML report);
- each tenant's section holds that tenant's rows; shared steps are listed once;
- a rebuild for another run keeps the previous bundle in ``historie/<run-id>/``; screenshots
  added with ``dso-report add-screenshot`` are kept across rebuilds.

Everything is derived from the Allure results folder (``*-result.json`` and
``environment.properties``), so a run with or without xdist gives the same bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pytest_dso.e2e.steps import MAIL_TO, Step, find, mails_for, parts_for, process_of, steps_for
from pytest_dso.evidence.manifest import MANIFEST_NAME, write_manifest
from pytest_dso.evidence.progress import (
    FAILED,
    OPEN,
    PROVEN,
    WAITING,
    IndexedOutcomes,
    MailReadiness,
    Screenshots,
    StepStatus,
    Tenant,
    in_process,
    mail_readiness,
    part_status,
    progress_svg,
    shared_outcomes,
    step_status,
    steps_in,
    tenant_outcomes,
)
from pytest_dso.evidence.redaction import Redactor
from pytest_dso.evidence.results import TestOutcome, load_results, read_environment

SUMMARY_MD = "samenvatting.md"
SUMMARY_HTML = "samenvatting.html"
SUMMARY_PDF = "samenvatting.pdf"
REPORT_HTML = "testrapport.html"
NOTES = "NOTITIES.txt"
RUN_FILE = "run.json"
HISTORY_DIR = "historie"
SCREENSHOT_DIR = "schermafdrukken"
SCREENSHOT_INDEX = "schermafdrukken.json"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT = 90.0
#: ``DSO_CHROMIUM=off`` leaves the PNG/PDF of the summary out where a caller lets the bundle look
#: for Chromium itself (the plugin does; a fast CI loop that does not need them sets it).
CHROMIUM_ENV = "DSO_CHROMIUM"
#: Flags for a headless Chromium that makes no network request of its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
#: OINs with this prefix are test OINs (PKIoverheid test certificates, the test PKI).
TEST_OIN_PREFIX = "00000099"
SCREENSHOT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                    ".pdf": "application/pdf"}
#: How each screenshot type's content begins (PNG signature, JPEG SOI marker, PDF header).
_SCREENSHOT_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
                     "image/jpeg": (b"\xff\xd8\xff", "JPEG"),
                     "application/pdf": (b"%PDF-", "PDF")}

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
    rehearsal: str = ""
    archived: Path | None = None


@dataclass(frozen=True)
class MailProposal:
    """A proposed mail to DSO-Beheer with its readiness."""

    readiness: MailReadiness
    subject: str
    body: str

    @property
    def ready(self) -> bool:
        """Whether it may be sent."""
        return self.readiness.ready

    @property
    def status(self) -> str:
        """The readiness line shown above the mail."""
        if self.ready:
            return "Klaar om te versturen."
        return f"NIET versturen: {self.readiness.reason}."


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rehearsal_reasons(env: str, props: dict[str, str],
                      tenants: Sequence[Tenant | None]) -> list[str]:
    """Why this run is an oefening and no evidence for DSO-Beheer (empty when it is real)."""
    reasons = []
    if env == "LOCAL":
        reasons.append("gedraaid tegen de ingebouwde simulator")
    urls = sorted({v for k, v in props.items()
                   if k.startswith(("basis-url.", "ebms.endpoint")) and _loopback(v)})
    if urls:
        reasons.append("loopback-adressen: " + ", ".join(urls))
    tests = sorted(t.oin for t in tenants if t is not None and t.oin.startswith(TEST_OIN_PREFIX))
    if tests and env != "LOCAL":
        reasons.append("test-OIN's: " + ", ".join(tests))
    return reasons


# --- screenshots and history ------------------------------------------------------------------


def read_screenshots(folder: Path) -> Screenshots:
    """The screenshots added to the bundle in ``folder``: (step, tenant OIN) → file name."""
    index = folder / SCREENSHOT_INDEX
    if not index.is_file():
        return {}
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    shots: dict[tuple[str, str], str] = {}
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and isinstance(item.get("bestand"), str):
            shots[(str(item.get("stap", "")), str(item.get("tenant", "")))] = item["bestand"]
    return shots


def add_screenshot(folder: Path, step_label: str, image: Path, tenant: str = "") -> Path:
    """Copy ``image`` into the bundle ``folder`` as the evidence of ``step_label`` (for
    ``tenant``, an OIN) and record it; run :func:`build_bundle` again to update the summary.
    ``ValueError`` says what is wrong."""
    item = find(step_label)
    if item is None or not item.screenshot_allowed:
        allowed = ", ".join(s.label for s in (*steps_for("pre"), *steps_for("prod"))
                            if s.screenshot_allowed)
        raise ValueError(f"a screenshot proves only {allowed}, not {step_label!r}")
    suffix = image.suffix.lower()
    if suffix not in SCREENSHOT_TYPES:
        raise ValueError(f"{image.name}: use a PNG, JPEG or PDF file "
                         f"({', '.join(SCREENSHOT_TYPES)})")
    if not image.is_file():
        raise ValueError(f"{image} is not a file")
    _check_screenshot_content(image, SCREENSHOT_TYPES[suffix])
    if not folder.is_dir() or not (folder / MANIFEST_NAME).is_file():
        raise ValueError(f"{folder} is no ticket bundle (no {MANIFEST_NAME}); run pytest with "
                         "--dso-ticket or 'dso-report bundle' first")
    if tenant and not re.fullmatch(r"\d{20}", tenant):
        raise ValueError(f"--tenant {tenant!r} is no OIN (20 digits)")
    target_dir = folder / SCREENSHOT_DIR
    target_dir.mkdir(exist_ok=True)
    name = f"{item.label.replace(' ', '-')}{'-' + tenant if tenant else ''}{suffix}"
    target = target_dir / name
    shutil.copyfile(image, target)
    index = folder / SCREENSHOT_INDEX
    entries = [e for e in _index_entries(index)
               if (e.get("stap"), e.get("tenant", "")) != (item.label, tenant)]
    entries.append({
        "stap": item.label,
        "tenant": tenant,
        "bestand": f"{SCREENSHOT_DIR}/{name}",
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "toegevoegd": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    index.write_text(json.dumps(entries, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def _check_screenshot_content(image: Path, mime: str) -> None:
    """``ValueError`` unless ``image`` holds what its name says (a text file named .png is no
    evidence), naming what it holds when that is another allowed type."""
    try:
        with image.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise ValueError(f"cannot read {image}: {exc.strerror or exc}") from None
    magic, name = _SCREENSHOT_MAGIC[mime]
    if head.startswith(magic):
        return
    other = next((label for start, label in _SCREENSHOT_MAGIC.values()
                  if head.startswith(start)), None)
    if other is not None:
        raise ValueError(f"{image.name} holds a {other} file, not a {name}: give it the "
                         "extension of what it is")
    why = "it is empty" if not head else f"its content does not begin as a {name} does"
    raise ValueError(f"{image.name} is not a {name} file ({why}): save the screenshot as "
                     "PNG, JPEG or PDF and add that file")


def _index_entries(index: Path) -> list[dict[str, str]]:
    if not index.is_file():
        return []
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _previous_run(folder: Path) -> str | None:
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run_id = data.get("run.id") if isinstance(data, dict) else None
    return str(run_id) if run_id else None


def _prepare(folder: Path, run_id: str) -> Path | None:
    """Make ``folder`` ready for the bundle of ``run_id``: a bundle of another run moves to
    ``historie/<its run id>/`` (never overwritten silently); screenshots and history stay.
    Returns where the previous bundle went, if it moved."""
    archived: Path | None = None
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"{folder} exists and is not a folder")
        if any(folder.iterdir()) and not (folder / MANIFEST_NAME).is_file():
            raise ValueError(
                f"{folder} exists and is not a pytest-dso bundle (no {MANIFEST_NAME}); "
                "move it away or choose another output folder"
            )
        keep = {HISTORY_DIR, SCREENSHOT_DIR, SCREENSHOT_INDEX}
        previous = _previous_run(folder)
        if previous is not None and previous != run_id:
            stamp = safe_ticket(previous)
            archived = folder / HISTORY_DIR / stamp
            if archived.exists():
                archived = folder / HISTORY_DIR / f"{stamp}-{dt.datetime.now(dt.UTC):%H%M%S}"
            archived.mkdir(parents=True)
            for entry in list(folder.iterdir()):
                if entry.name not in keep:
                    shutil.move(str(entry), archived / entry.name)
        else:
            for entry in list(folder.iterdir()):
                if entry.name in keep:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return archived


def _history(folder: Path) -> list[str]:
    base = folder / HISTORY_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir())


# --- the summary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Summary:
    ticket: str
    env: str
    props: dict[str, str]
    tenants: list[Tenant | None]
    outcomes: IndexedOutcomes
    mails: list[MailProposal]
    svg: str
    has_report: bool
    made: str
    rehearsal: list[str]
    screenshots: Screenshots
    history: list[str] = field(default_factory=list)

    @property
    def process(self) -> str:
        return process_of(self.env).upper()

    @property
    def leverancier(self) -> str:
        return self.props.get("leverancier", "-")

    @property
    def title(self) -> str:
        return (f"Bewijs aansluiting STAM-koppelvlak {self.process}, ticket {self.ticket}, "
                f"leverancier {self.leverancier}")

    @property
    def banner(self) -> str:
        if not self.rehearsal:
            return ""
        return ("OEFENING: geen bewijs voor DSO-Beheer, geen mail versturen ("
                + "; ".join(self.rehearsal) + ").")


def _shown(status: str, rehearsal: bool) -> str:
    return "geslaagd in oefening" if rehearsal and status == PROVEN else status


def _facts(s: _Summary) -> list[tuple[str, str]]:
    facts = [
        ("Ticketnummer", s.ticket),
        ("Omgeving", _ENV_NL.get(s.env, s.env)),
        ("Leverancier", s.leverancier),
        ("Run", f"{s.props.get('run.id', '-')} gestart {s.props.get('run.start', '-')}"),
        ("Certificaat", s.props.get("certificaat.subject", s.props.get("certificaat", "-"))),
        ("Vingerafdruk (sha256)", s.props.get("certificaat.sha256", "-")),
    ]
    roots = s.props.get("certificaat.geaccepteerde_roots")
    if roots:
        facts.append(("Extra geaccepteerde roots (sha256)", roots))
    if s.props.get("cpa"):
        facts.append(("CPA", s.props["cpa"]))
    urls = [f"{k.removeprefix('basis-url.')}: {v}" for k, v in sorted(s.props.items())
            if k.startswith("basis-url.")]
    if urls:
        facts.append(("Basis-URL's", "; ".join(urls)))
    elif s.props.get("basis-url"):
        facts.append(("Basis-URL's", s.props["basis-url"]))
    facts.append(("Oefening", "; ".join(s.rehearsal) if s.rehearsal else "nee"))
    if s.history:
        facts.append(("Eerdere runs (in historie/)", ", ".join(s.history)))
    facts.append(("Samenvatting gemaakt", s.made))
    return facts


def _step_rows(s: _Summary, tenant: Tenant | None, per_tenant: bool) -> list[StepStatus]:
    return [step_status(item, tenant, s.outcomes, s.screenshots)
            for item in steps_for(s.env) if item.per_tenant == per_tenant]


def _test_rows(outcomes: Sequence[TestOutcome], env: str) -> list[list[str]]:
    def key(o: TestOutcome) -> tuple[str, str]:
        labels = steps_in(o, env)
        return (labels[0].label if labels else "~", o.name)

    return [[", ".join(s.label for s in steps_in(o, env)), o.name,
             _OUTCOME_NL.get(o.status, o.status), _time(o.start), o.verzoeknummer or "-"]
            for o in sorted(outcomes, key=key)]


_TEST_HEAD = ["Stap", "Test", "Uitkomst", "Start", "Verzoeknummer"]
_STEP_HEAD = ["Stap", "Wie", "Status", "Bewijs of wat u moet doen"]


def _step_cells(row: StepStatus, rehearsal: bool) -> list[str]:
    return [f"{row.step.label} {row.step.title}", row.step.actor,
            _shown(row.status, rehearsal), row.detail]


def _verzoeknummers(outcomes: Sequence[TestOutcome]) -> list[str]:
    return sorted({o.verzoeknummer for o in outcomes if o.verzoeknummer})


def _mail_body(s: _Summary, readiness: MailReadiness) -> str:
    rehearsal = bool(s.rehearsal)
    lines = []
    for row in readiness.rows:
        who = f" voor {row.tenant.who}" if row.tenant is not None else ""
        proof = f" ({'; '.join(row.proof)})" if row.status == PROVEN and row.proof else ""
        lines.append(f"- {row.step.label} {row.step.title}{who}: "
                     f"{_shown(row.status, rehearsal)}{proof}")
    numbers = sorted({o.verzoeknummer for r in readiness.rows for o in r.outcomes
                      if o.verzoeknummer})
    starts = [o.start for r in readiness.rows for o in r.outcomes if o.start]
    stops = [o.stop for r in readiness.rows for o in r.outcomes if o.stop]
    window = (f"{_time(min(starts))} tot {_time(max(stops) if stops else None)}"
              if starts else "-")
    body = [
        "Beste DSO-Beheer,",
        "",
        readiness.mail.intro if readiness.ready else
        "CONCEPT, NOG NIET VERSTUREN: pas als alle stappen hieronder zijn aangetoond, kan deze "
        f"mail melden: {readiness.mail.intro}",
        "",
        f"Ticketnummer: {s.ticket}",
        f"Omgeving: {_ENV_NL.get(s.env, s.env)}",
        f"Leverancier: {s.leverancier}",
        "Stand van de stappen in deze run:",
        *lines,
    ]
    if numbers:
        body.append(f"Verzoeknummer(s): {', '.join(numbers)}")
    body += [
        f"Tijdstip van de tests: {window}",
        "",
        f"Bijlage: {readiness.mail.attach}",
        f"Bijgevoegd: {SUMMARY_PDF} (of {SUMMARY_HTML}) en {REPORT_HTML} uit de bewijsmap; "
        f"{MANIFEST_NAME} bevat de controlegetallen (sha256) van alle bestanden.",
        "",
        "Met vriendelijke groet,",
        "",
        "[naam, organisatie, telefoonnummer]",
    ]
    return "\n".join(body)


def propose_mails(s: _Summary) -> list[MailProposal]:
    """The evidence mails of the run's aansluitproces, each with its own verdict table."""
    rehearsal = "; ".join(s.rehearsal)
    proposals = []
    for mail in mails_for(s.env):
        readiness = mail_readiness(mail, s.tenants, s.outcomes, s.screenshots, rehearsal)
        proposals.append(MailProposal(readiness, mail.subject(s.ticket), _mail_body(s, readiness)))
    return proposals


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out


def _others(s: _Summary) -> int:
    return sum(1 for o in s.outcomes if not in_process(o, s.env))


def summary_markdown(s: _Summary) -> str:
    """The summary as Markdown."""
    rehearsal = bool(s.rehearsal)
    out = [f"# {s.title}", ""]
    if s.banner:
        out += [f"> **{s.banner}**", ""]
    out += [f"- **{k}**: {_md_cell(v)}" for k, v in _facts(s)]
    out += ["", f"## Gedeelde stappen ({s.process})", ""]
    out += _md_table(_STEP_HEAD, [_step_cells(r, rehearsal)
                                  for r in _step_rows(s, None, per_tenant=False)])
    shared = shared_outcomes(s.outcomes, s.env)
    if shared:
        out += ["", *_md_table(_TEST_HEAD, _test_rows(shared, s.env))]
    for tenant in s.tenants:
        who = "Alle tests" if tenant is None else tenant.who
        out += ["", f"## {who}", ""]
        if s.banner:
            out += [f"> **{s.banner}**", ""]
        for part in parts_for(s.env):
            status = part_status(part, tenant, s.outcomes, s.screenshots)
            out.append(f"- {part.feature}: {_shown(status, rehearsal)}")
        mine = tenant_outcomes(tenant, s.outcomes, s.env) if tenant else []
        out += [f"- Verzoeknummer(s): {', '.join(_verzoeknummers(mine)) or '-'}", ""]
        out += _md_table(_STEP_HEAD, [_step_cells(r, rehearsal)
                                      for r in _step_rows(s, tenant, per_tenant=True)])
        if mine:
            out += ["", *_md_table(_TEST_HEAD, _test_rows(mine, s.env))]
    out += ["", f"## Voorgestelde mails aan {MAIL_TO}", ""]
    if s.banner:
        out += [f"> **{s.banner}**", ""]
    for mail in s.mails:
        out += [f"### Onderwerp: {mail.subject}", "", f"*{mail.status}*", "", "```text",
                mail.body, "```", ""]
    out += ["## Bestanden", ""]
    out.append(f"- {SUMMARY_HTML} / {SUMMARY_PDF} / {SUMMARY_MD}: deze samenvatting")
    out.append(f"- {REPORT_HTML}: het volledige testrapport (één bestand, opent zonder internet)"
               if s.has_report else f"- {REPORT_HTML}: niet gemaakt (zie {NOTES})")
    if _others(s):
        out.append(f"- {_others(s)} andere tests (conformance, details) staan alleen in het "
                   "testrapport")
    out.append(f"- {MANIFEST_NAME}: sha256 van elk bestand; controleer met `dso-report verify "
               f"<map>` of `sha256sum -c {MANIFEST_NAME}`")
    out.append("")
    return "\n".join(out)


_CSS = """
@page{size:A4;margin:14mm 12mm 12mm 12mm}
body{font-family:sans-serif;margin:0 auto;max-width:190mm;color:#222;font-size:11px}
h1{font-size:17px;margin:.2em 0 .6em}h2{font-size:14px;margin:1em 0 .4em}
h3{font-size:12px;margin:.8em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 .8em;width:100%}
td,th{border:1px solid #bbb;padding:2px 5px;text-align:left;vertical-align:top;font-size:10px}
td:last-child{overflow-wrap:anywhere}
th{background:#eee}
.aangetoond,.geslaagd{color:#2e7d32;font-weight:bold}.mislukt,.fout{color:#c62828;font-weight:bold}
.wacht{color:#b26a00;font-weight:bold}
.banner{position:fixed;top:0;left:0;right:0;background:#fff3cd;border:1px solid #e0c36a;
padding:3px 6px;font-weight:bold;font-size:10px}
.has-banner{padding-top:26px}
.tenant,.mails{break-before:page}
.has-banner .tenant,.has-banner .mails{padding-top:26px}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;font-size:9.5px;margin:.2em 0}
svg{max-width:100%;height:auto}
"""


def _cls(status: str) -> str:
    return {"geslaagd": "geslaagd", "geslaagd in oefening": "geslaagd", PROVEN: "aangetoond",
            FAILED: "mislukt", "fout": "fout", WAITING: "wacht", OPEN: "open"}.get(status, "")


def _html_table(head: list[str], rows: list[list[str]], status_col: int) -> str:
    e = html.escape
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = "".join(f'<td class="{_cls(c)}">{e(c)}</td>' if i == status_col
                        else f"<td>{e(c)}</td>" for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def summary_html(s: _Summary) -> str:
    """The summary as one self-contained HTML page (inline CSS and SVG, no scripts), laid out
    for A4: the rehearsal banner repeats on every printed page, each tenant starts a page."""
    e = html.escape
    rehearsal = bool(s.rehearsal)
    body_class = ' class="has-banner"' if s.banner else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="nl"><head><meta charset="utf-8">',
        f"<title>{e(s.title)}</title>",
        f"<style>{_CSS}</style></head><body{body_class}>",
    ]
    if s.banner:
        out.append(f'<div class="banner">{e(s.banner)}</div>')
    out.append(f"<h1>{e(s.title)}</h1><table>")
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _facts(s)]
    out += ["</table>", "<h2>Voortgang aansluitproces</h2>", s.svg]
    out.append(f"<h2>Gedeelde stappen ({e(s.process)})</h2>")
    out.append(_html_table(_STEP_HEAD, [_step_cells(r, rehearsal)
                                        for r in _step_rows(s, None, per_tenant=False)], 2))
    shared = shared_outcomes(s.outcomes, s.env)
    if shared:  # listed in the Markdown, uitkomsten.json and the report; kept off the A4 pages
        out.append(f"<p>De {len(shared)} tests van de gedeelde stappen staan in "
                   f"{SUMMARY_MD}, uitkomsten.json en {REPORT_HTML}.</p>")
    for tenant in s.tenants:
        who = "Alle tests" if tenant is None else tenant.who
        out.append(f'<section class="tenant"><h2>{e(who)}</h2><ul>')
        for part in parts_for(s.env):
            status = _shown(part_status(part, tenant, s.outcomes, s.screenshots), rehearsal)
            out.append(f'<li>{e(part.feature)}: <span class="{_cls(status)}">{e(status)}'
                       "</span></li>")
        mine = tenant_outcomes(tenant, s.outcomes, s.env) if tenant else []
        out.append(f"<li>Verzoeknummer(s): {e(', '.join(_verzoeknummers(mine)) or '-')}</li>"
                   "</ul>")
        out.append(_html_table(_STEP_HEAD, [_step_cells(r, rehearsal)
                                            for r in _step_rows(s, tenant, per_tenant=True)], 2))
        if mine:
            out.append(_html_table(_TEST_HEAD, _test_rows(mine, s.env), 2))
        out.append("</section>")
    out.append(f'<section class="mails"><h2>Voorgestelde mails aan {e(MAIL_TO)}</h2>')
    for mail in s.mails:
        cls = "aangetoond" if mail.ready else "mislukt"
        out.append(f'<h3>Onderwerp: {e(mail.subject)}</h3><p class="{cls}">{e(mail.status)}</p>')
        out.append(f"<pre>{e(mail.body)}</pre>")
    report = (f"{REPORT_HTML}: het volledige testrapport (één bestand, opent zonder internet)"
              if s.has_report else f"{REPORT_HTML}: niet gemaakt (zie {NOTES})")
    out.append(f"<h2>Bestanden</h2><ul><li>{report}</li>")
    if _others(s):
        out.append(f"<li>{_others(s)} andere tests (conformance, details) staan alleen in het "
                   "testrapport</li>")
    out.append(f"<li>{MANIFEST_NAME}: sha256 van elk bestand (dso-report verify)</li></ul>")
    out.append("</section></body></html>")
    return "\n".join(out)


# --- Chromium ---------------------------------------------------------------------------------


def chromium_switched_off(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``DSO_CHROMIUM`` says not to start Chromium (``off``, ``0``, ``no``, ``false``)."""
    value = (os.environ if environ is None else environ).get(CHROMIUM_ENV, "")
    return value.strip().lower() in ("off", "0", "no", "false")


def find_chromium() -> str | None:
    """A headless-capable Chromium on PATH, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(binary: str, profile: Path, *args: str) -> list[str]:
    """A headless Chromium command line with a fresh profile and no background traffic."""
    return [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]


def _chromium(binary: str, page: Path, folder: Path) -> list[str]:
    """The PNG and the PDF of the summary page. A current headless Chromium writes both in
    one start; one that writes only the first (the old headless mode) is started again for
    what is missing."""
    jobs = {
        "samenvatting.png": ["--window-size=1100,1600",
                             f"--screenshot={folder / 'samenvatting.png'}"],
        SUMMARY_PDF: ["--no-pdf-header-footer", "--print-to-pdf-no-header",
                      f"--print-to-pdf={folder / SUMMARY_PDF}"],
    }
    url = page.absolute().as_uri()
    failed: dict[str, str] = {}
    for attempt in range(2):
        missing = [name for name in jobs
                   if name not in failed and not (folder / name).is_file()]
        if not missing:
            break
        args = [arg for name in missing for arg in jobs[name]]
        with tempfile.TemporaryDirectory(prefix="dso-chromium-") as profile:
            try:
                subprocess.run(chromium_command(binary, Path(profile), *args, url),
                               capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                failed.update((name, f"{binary} faalde ({type(exc).__name__})")
                              for name in missing)
                continue
        if attempt == 1:
            failed.update((name, f"{binary} schreef geen bestand")
                          for name in missing if not (folder / name).is_file())
    return [f"{name} niet gemaakt: {failed[name]}" for name in jobs if name in failed]


# --- building ---------------------------------------------------------------------------------


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
    props = read_environment(results_dir)
    outcomes = IndexedOutcomes(load_results(results_dir))
    env = (props.get("omgeving") or "LOCAL").upper()
    run_id = props.get("run.id") or "onbekend"
    folder = output_root / safe_ticket(ticket)
    archived = _prepare(folder, run_id)
    tenants = tenants_of(props, outcomes)
    notes: list[str] = []
    if archived is not None:
        notes.append(f"de bundel van de vorige run staat nu in {archived.relative_to(folder)}")

    report: Path | None = None
    target = folder / REPORT_HTML
    if report_html is not None and report_html.is_file():
        shutil.copyfile(report_html, target)
        report = target
    elif render:
        from pytest_dso.evidence.render import render_single_file, report_title

        rendered = render_single_file(results_dir, target, name=report_title(props),
                                      install=install)
        report = rendered.html
        if report is None:
            notes.append(f"{REPORT_HTML} niet gemaakt: {rendered.message}")
    else:
        notes.append(
            f"{REPORT_HTML} niet gemaakt tijdens de testrun; maak het met "
            f"'dso-report bundle --ticket {ticket}' (heeft Node.js nodig)"
        )

    screenshots = read_screenshots(folder)
    rehearsal = rehearsal_reasons(env, props, tenants)
    svg = progress_svg(env, tenants, outcomes, screenshots, rehearsal=bool(rehearsal))
    (folder / f"voortgang-{process_of(env).upper()}.svg").write_text(svg, encoding="utf-8")
    summary = _Summary(
        ticket=ticket, env=env, props=props, tenants=tenants, outcomes=outcomes, mails=[],
        svg=svg, has_report=report is not None,
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), rehearsal=rehearsal,
        screenshots=screenshots, history=_history(folder),
    )
    summary = _Summary(**{**summary.__dict__, "mails": propose_mails(summary)})
    (folder / SUMMARY_MD).write_text(redactor.redact_text(summary_markdown(summary)),
                                     encoding="utf-8")
    page = folder / SUMMARY_HTML
    page.write_text(redactor.redact_text(summary_html(summary)), encoding="utf-8")
    banner = f"[{summary.banner}]\n\n" if summary.banner else ""
    mail_text = "\n\n".join(
        f"Aan: {MAIL_TO}\nOnderwerp: {m.subject}\n[{m.status}]\n\n{m.body}" for m in summary.mails
    )
    (folder / "mails.txt").write_text(redactor.redact_text(banner + mail_text) + "\n",
                                      encoding="utf-8")
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
        for o in sorted(outcomes, key=lambda o: (o.full_name, o.name)) if in_process(o, env)
    ]
    (folder / "uitkomsten.json").write_text(
        redactor.redact_text(json.dumps(records, ensure_ascii=False, indent=2)), encoding="utf-8"
    )
    status = {
        "run.id": run_id,
        "omgeving": env,
        "oefening": rehearsal,
        "stappen": {
            f"{r.step.label}{' ' + r.tenant.oin if r.tenant else ''}": r.status
            for tenant in tenants
            for r in (step_status(item, tenant, outcomes, screenshots)
                      for item in steps_for(env) if item.per_tenant or tenant is tenants[0])
        },
        "mails": {m.subject: "klaar" if m.ready else "niet versturen" for m in summary.mails},
    }
    (folder / RUN_FILE).write_text(
        redactor.redact_text(json.dumps(status, ensure_ascii=False, indent=2)), encoding="utf-8")
    if (results_dir / "environment.properties").is_file():
        (folder / "omgeving.properties").write_text(
            redactor.redact_text((results_dir / "environment.properties").read_text("utf-8")),
            encoding="utf-8")

    if chromium is True and chromium_switched_off():
        notes.append(f"Geen PNG/PDF van de samenvatting: {CHROMIUM_ENV}=off. Open {SUMMARY_HTML} "
                     "en druk hem af als PDF (A4).")
        chromium = False
    binary = find_chromium() if chromium is True else chromium or None
    if binary:
        notes.extend(_chromium(str(binary), page, folder))
    elif chromium is not False:
        notes.append(
            "Geen PNG/PDF van de samenvatting: geen Chromium gevonden (chromium, chromium-browser "
            f"of google-chrome op PATH). Open {SUMMARY_HTML} en druk hem af als PDF (A4)."
        )
    (folder / NOTES).write_text(
        ("\n".join(notes) if notes else "Geen bijzonderheden.") + "\n", encoding="utf-8"
    )
    write_manifest(folder)
    files = tuple(sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                         if p.is_file() and HISTORY_DIR not in p.relative_to(folder).parts))
    return BundleOutcome(folder, files, tuple(notes), report, "; ".join(rehearsal), archived)


__all__ = [
    "FAILED",
    "OPEN",
    "PROVEN",
    "WAITING",
    "BundleOutcome",
    "MailProposal",
    "Step",
    "add_screenshot",
    "build_bundle",
    "find_chromium",
    "read_screenshots",
    "safe_ticket",
]
