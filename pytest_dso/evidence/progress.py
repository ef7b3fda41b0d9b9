"""The aansluitproces as data: PRE in 4 parts, PROD in 7 steps, the mails to DSO-Beheer, and
how far a run got (per tenant), drawn as an inline SVG.

Source: *Procesbeschrijving aansluiten op STAM-koppelvlak van DSO* v2.1 (DSO-Beheer),
sections on the PRE checklist, the PROD checklist and the evidence summary. Tests say which
step they prove with the ``dso_step`` marker (``PRE 2.6``, ``PROD 3``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pytest_dso.evidence.results import TestOutcome

PROVEN = "aangetoond"
FAILED = "mislukt"
OPEN = "open"

_STEP_RE = re.compile(r"^\s*(PRE|PROD)\s+(\d+)(?:\.(\d+))?", re.IGNORECASE)


@dataclass(frozen=True)
class Stage:
    """A part (PRE) or step (PROD) of the aansluitproces."""

    process: str  # "PRE" or "PROD"
    number: int
    title: str


@dataclass(frozen=True)
class MailStep:
    """A mail to DSO-Beheer that closes one or more stages."""

    process: str
    step: str  # the checklist step the mail is, e.g. "2.7"
    subject: str  # with {ticket}
    proven_by: tuple[int, ...]  # stage numbers that must be proven first
    evidence: str  # what to attach, in Dutch
    intro: str  # the first sentence of the mail, in Dutch


PRE_STAGES: tuple[Stage, ...] = (
    Stage("PRE", 1, "Aanmelden voor aansluiten"),
    Stage("PRE", 2, "Digikoppeling realiseren"),
    Stage("PRE", 3, "Triggerbericht ontvangen"),
    Stage("PRE", 4, "Vergunningaanvraag ophalen"),
)
PROD_STAGES: tuple[Stage, ...] = (
    Stage("PROD", 1, "Aanmelden"),
    Stage("PROD", 2, "API-key aanvragen"),
    Stage("PROD", 3, "Digikoppeling realiseren"),
    Stage("PROD", 4, "Verzoek aanmaken"),
    Stage("PROD", 5, "Triggerbericht ontvangen"),
    Stage("PROD", 6, "Verzoek ophalen"),
    Stage("PROD", 7, "Bevestigen"),
)
STAGES: Mapping[str, tuple[Stage, ...]] = {"PRE": PRE_STAGES, "PROD": PROD_STAGES}

MAIL_STEPS: tuple[MailStep, ...] = (
    MailStep(
        "PRE",
        "2.7",
        "{ticket}: pingpong geslaagd",
        (2,),
        "De technische verbinding werkt: de ebMS ping-pong is geslaagd.",
        "Hierbij melden wij dat de ebMS ping-pong op de PRE-omgeving is geslaagd.",
    ),
    MailStep(
        "PRE",
        "4.2",
        "{ticket}: ophalen vergunning gereed.",
        (3, 4),
        "Een screenshot van de melding of informatie zoals ingelezen in het VTH- of zaaksysteem.",
        "Hierbij melden wij dat het ophalen van de vergunningaanvraag op de PRE-omgeving is "
        "gelukt.",
    ),
    MailStep(
        "PROD",
        "3",
        "{ticket}: ping pong test",
        (3,),
        "Een screenshot waarop te zien is dat de ping pong is geslaagd.",
        "Hierbij sturen wij het bewijs van de geslaagde ping pong test op de productieomgeving.",
    ),
    MailStep(
        "PROD",
        "7",
        "{ticket}: verzoek ophalen gereed",
        (5, 6),
        "Een screenshot van de ingelezen 'Melding' of 'Informatie' waarop duidelijk PROD en het "
        "bevoegd gezag of de behandelaar te zien is; vermeld het verzoeknummer in de mail.",
        "Hierbij melden wij dat het ophalen van het verzoek op de productieomgeving is gelukt.",
    ),
)


def parse_step(label: str | None) -> tuple[str, int] | None:
    """``("PRE", 2)`` for ``"PRE 2.6"``; ``None`` when the label is not a checklist step."""
    if not label:
        return None
    match = _STEP_RE.match(label)
    if match is None:
        return None
    return match.group(1).upper(), int(match.group(2))


def processes_for(env: str) -> tuple[str, ...]:
    """The process this run can give evidence for: PROD for a PROD run, otherwise PRE (a
    local run rehearses PRE). A test labelled with steps of both processes (e.g. "PRE 3.3" and
    "PROD 5") proves only the step of the environment it ran against."""
    return ("PROD",) if env.lower() == "prod" else ("PRE",)


@dataclass(frozen=True)
class Tenant:
    """A bevoegd gezag or behandeldienst as the evidence knows it."""

    oin: str
    name: str


def outcomes_for(tenant: Tenant | None, outcomes: Sequence[TestOutcome]) -> list[TestOutcome]:
    """The tests that count for ``tenant``: its own plus those not about one tenant."""
    if tenant is None:
        return list(outcomes)
    return [o for o in outcomes if o.tenant in (None, tenant.oin)]


def stage_status(stage: Stage, outcomes: Iterable[TestOutcome]) -> str:
    """``aangetoond`` (at least one test passed, none failed), ``mislukt`` or ``open``."""
    wanted = (stage.process, stage.number)
    statuses = [o.status for o in outcomes if any(parse_step(s) == wanted for s in o.steps)]
    if any(s in ("failed", "broken") for s in statuses):
        return FAILED
    if any(s == "passed" for s in statuses):
        return PROVEN
    return OPEN


def mail_status(mail: MailStep, outcomes: Iterable[TestOutcome]) -> str:
    """Whether the stages a mail needs are all proven."""
    listed = list(outcomes)
    stages = {s.number: s for s in STAGES[mail.process]}
    statuses = [stage_status(stages[n], listed) for n in mail.proven_by]
    if FAILED in statuses:
        return FAILED
    if all(s == PROVEN for s in statuses):
        return PROVEN
    return OPEN


_COLOURS = {PROVEN: "#2e7d32", FAILED: "#c62828", OPEN: "#9e9e9e"}
_BOX_W, _BOX_H, _GAP, _LABEL_W, _ROW_H = 128, 48, 14, 250, 64


def _wrap(text: str, width: int = 18) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines[:2]


def progress_svg(
    process: str,
    tenants: Sequence[Tenant | None],
    outcomes: Sequence[TestOutcome],
) -> str:
    """An SVG with one row per tenant and one box per stage of ``process``, coloured proven
    (green), failed (red) or open (grey). Self-contained: no fonts, scripts or links."""
    stages = STAGES[process]
    width = _LABEL_W + len(stages) * (_BOX_W + _GAP) + 10
    height = 40 + len(tenants) * _ROW_H + 40
    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="12">',
        f"<title>Voortgang aansluitproces {esc(process)}</title>",
        f'<text x="8" y="22" font-size="15" font-weight="bold">Aansluitproces {esc(process)}'
        f" ({len(stages)} {'delen' if process == 'PRE' else 'stappen'})</text>",
    ]
    for row, tenant in enumerate(tenants):
        y = 40 + row * _ROW_H
        label = "Alle tests" if tenant is None else tenant.name
        parts.append(
            f'<text x="8" y="{y + _BOX_H // 2 - 2}" font-weight="bold">{esc(label[:34])}</text>'
        )
        if tenant is not None:
            parts.append(
                f'<text x="8" y="{y + _BOX_H // 2 + 13}" fill="#555">OIN {esc(tenant.oin)}</text>'
            )
        mine = outcomes_for(tenant, outcomes)
        for index, stage in enumerate(stages):
            x = _LABEL_W + index * (_BOX_W + _GAP)
            status = stage_status(stage, mine)
            if index:
                parts.append(
                    f'<line x1="{x - _GAP}" y1="{y + _BOX_H // 2}" x2="{x}" '
                    f'y2="{y + _BOX_H // 2}" stroke="#777" stroke-width="2"/>'
                )
            parts.append(
                f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
                f'fill="{_COLOURS[status]}"><title>{esc(process)} {stage.number} '
                f"{esc(stage.title)}: {status}</title></rect>"
            )
            parts.append(
                f'<text x="{x + 6}" y="{y + 15}" fill="#fff" font-weight="bold">'
                f"{stage.number}. {esc(status)}</text>"
            )
            for line_no, line in enumerate(_wrap(stage.title)):
                parts.append(
                    f'<text x="{x + 6}" y="{y + 29 + 12 * line_no}" fill="#fff">{esc(line)}</text>'
                )
    legend_y = 40 + len(tenants) * _ROW_H + 12
    for index, status in enumerate((PROVEN, FAILED, OPEN)):
        x = 8 + index * 130
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="14" height="14" fill="{_COLOURS[status]}"/>'
            f'<text x="{x + 20}" y="{legend_y + 12}">{status}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
