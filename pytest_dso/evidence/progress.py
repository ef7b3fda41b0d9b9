"""How far a run got in the aansluitproces, per step, part and tenant, judged from the Allure
results; and the progress picture (an inline SVG).

The steps, parts and mails come from the one model, :mod:`pytest_dso.e2e.steps`. The rules,
the same for the summary, the mails and the picture:

- a **step** is *aangetoond* when a test labelled with it passed in this run and none failed
  (or, for a step a screenshot may prove, when one was added with ``dso-report
  add-screenshot``); *mislukt* when a test labelled with it failed; *wacht op u* when it is a
  manual step (or a screenshot is still missing); otherwise *niet aangetoond*;
- a per-tenant step is judged from that tenant's results only; a shared step (CPA, Ping/Pong)
  once, for everybody;
- a **part** is *aangetoond* only when every automated step in it is; *mislukt* when one is;
- a **mail** is ready only when every step it reports is aangetoond (for every tenant) and the
  run is no rehearsal.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_dso.e2e.steps import (
    Mail,
    Part,
    Step,
    find,
    parts_for,
    process_of,
    steps_of,
)
from pytest_dso.evidence.results import TestOutcome
from pytest_dso.tenants import Tenant as Tenant

PROVEN = "aangetoond"
FAILED = "mislukt"
WAITING = "wacht op u"
OPEN = "niet aangetoond"
STATUSES = (PROVEN, FAILED, WAITING, OPEN)


#: Screenshots added by the user: ``(step label, tenant OIN or "")`` → file name.
Screenshots = Mapping[tuple[str, str], str]


@dataclass(frozen=True)
class StepStatus:
    """The verdict on one step (for one tenant, or shared)."""

    step: Step
    tenant: Tenant | None
    status: str
    outcomes: tuple[TestOutcome, ...]
    detail: str  # what proves it, what failed, or what the user must do (Dutch)
    proof: tuple[str, ...] = ()  # the facts that prove an aangetoond step, from its results


@functools.lru_cache(maxsize=512)
def _labelled(labels: tuple[str, ...], process: str) -> tuple[Step, ...]:
    """The steps of ``process`` among ``labels``, each once (few label sets per run)."""
    found = (find(label) for label in labels)
    return tuple(dict.fromkeys(s for s in found if s is not None and s.env == process))


def _steps_of(outcome: TestOutcome, process: str) -> tuple[Step, ...]:
    return _labelled(tuple(outcome.steps), process)


@dataclass
class _Index:
    """The results of a run by step and tenant, so judging one step for one tenant reads
    only its own results: a bundle for 400 tenants judges thousands of (step, tenant)
    pairs."""

    by_step: dict[tuple[str, str], list[TestOutcome]] = field(default_factory=dict)
    by_step_tenant: dict[tuple[str, str, str | None], list[TestOutcome]] = field(
        default_factory=dict)
    by_process_tenant: dict[tuple[str, str | None], list[TestOutcome]] = field(
        default_factory=dict)

    @classmethod
    def of(cls, outcomes: Iterable[TestOutcome]) -> _Index:
        index = cls()
        for outcome in outcomes:
            tenant = outcome.tenant
            for process in ("pre", "prod"):
                steps = _steps_of(outcome, process)
                if steps:
                    index.by_process_tenant.setdefault((process, tenant), []).append(outcome)
                for item in steps:
                    index.by_step.setdefault((item.env, item.label), []).append(outcome)
                    index.by_step_tenant.setdefault((item.env, item.label, tenant),
                                                    []).append(outcome)
        return index


class IndexedOutcomes(tuple[TestOutcome, ...]):
    """A run's results that keep their index by step and tenant: pass them where many steps
    and tenants are judged (the ticket bundle), so the index is made once."""

    @functools.cached_property
    def lookup(self) -> _Index:
        """The index, made on first use (a tuple cannot change under it)."""
        return _Index.of(self)


def _index(outcomes: Iterable[TestOutcome]) -> _Index:
    """The index of ``outcomes``: kept by :class:`IndexedOutcomes`, made anew otherwise."""
    if isinstance(outcomes, IndexedOutcomes):
        return outcomes.lookup
    return _Index.of(outcomes)


def in_process(outcome: TestOutcome, env: str) -> bool:
    """Whether ``outcome`` is labelled with a step of ``env``'s aansluitproces."""
    return bool(_steps_of(outcome, process_of(env)))


def step_outcomes(item: Step, tenant: Tenant | None,
                  outcomes: Iterable[TestOutcome]) -> list[TestOutcome]:
    """The results that judge ``item``: labelled with it, and for a per-tenant step (when the
    run names tenants) only those of ``tenant``. Pass :class:`IndexedOutcomes` when asking
    about many steps and tenants."""
    index = _index(outcomes)
    if item.per_tenant and tenant is not None:
        return list(index.by_step_tenant.get((item.env, item.label, tenant.oin), ()))
    return list(index.by_step.get((item.env, item.label), ()))


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:240]


#: At most this many proof facts are shown per step (the report holds them all).
MAX_PROOFS = 4


def proofs_of(outcomes: Iterable[TestOutcome]) -> tuple[str, ...]:
    """The proof facts of ``outcomes``: their verzoeknummers, then what each recorded with
    ``dso_evidence.proof``; each once, at most :data:`MAX_PROOFS`, the rest counted."""
    found: list[str] = []
    for outcome in outcomes:
        facts = ([f"verzoeknummer {outcome.verzoeknummer}"] if outcome.verzoeknummer else [])
        for fact in (*facts, *outcome.proofs):
            if fact not in found:
                found.append(fact)
    if len(found) > MAX_PROOFS:
        return (*found[:MAX_PROOFS - 1], f"en {len(found) - MAX_PROOFS + 1} meer in het rapport")
    return tuple(found)


def step_status(item: Step, tenant: Tenant | None, outcomes: Sequence[TestOutcome],
                screenshots: Screenshots | None = None) -> StepStatus:
    """The verdict on ``item`` for ``tenant`` (see the module docstring)."""
    mine = tuple(step_outcomes(item, tenant, outcomes))
    shots = screenshots or {}
    failed = [o for o in mine if o.status in ("failed", "broken")]
    if failed:
        return StepStatus(item, tenant, FAILED, mine,
                          f"{failed[0].name}: {_first_line(failed[0].message) or 'mislukt'}")
    shot = shots.get((item.label, tenant.oin if tenant else "")) or shots.get((item.label, ""))
    if shot and item.screenshot_allowed:
        return StepStatus(item, tenant, PROVEN, mine, f"schermafdruk toegevoegd: {shot}",
                          (f"schermafdruk {shot}",))
    passed = [o for o in mine if o.status == "passed"]
    if passed:
        names = sorted({o.name for o in passed})
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} en {len(names) - 1} andere"
        proof = proofs_of(passed)
        said = f"geslaagd: {shown}" + (f"; bewijs: {'; '.join(proof)}" if proof else "")
        return StepStatus(item, tenant, PROVEN, mine, said, proof)
    if not item.automated or item.screenshot_allowed:
        return StepStatus(item, tenant, WAITING, mine, item.todo)
    skipped = [o for o in mine if o.status == "skipped" and o.message]
    reason = f" ({_first_line(skipped[0].message)})" if skipped else ""
    return StepStatus(item, tenant, OPEN, mine,
                      f"niet aangetoond in deze run{reason}. {item.todo}".strip())


def part_status(part: Part, tenant: Tenant | None, outcomes: Sequence[TestOutcome],
                screenshots: Screenshots | None = None) -> str:
    """``aangetoond`` only when every automated step of ``part`` is; ``mislukt`` when one
    failed; ``wacht op u`` for a part with only manual steps (or only a screenshot missing);
    else ``niet aangetoond``."""
    statuses = [step_status(s, tenant, outcomes, screenshots)
                for s in steps_of(part) if s.automated]
    if not statuses:
        return WAITING
    found = [s.status for s in statuses]
    if FAILED in found:
        return FAILED
    if all(s == PROVEN for s in found):
        return PROVEN
    if all(s in (PROVEN, WAITING) for s in found):
        return WAITING
    return OPEN


@dataclass(frozen=True)
class MailReadiness:
    """Whether a mail may be sent, and the step verdicts it reports (its own table)."""

    mail: Mail
    rows: tuple[StepStatus, ...]
    ready: bool
    reason: str  # why not (Dutch); empty when ready


def mail_readiness(mail: Mail, tenants: Sequence[Tenant | None],
                   outcomes: Sequence[TestOutcome], screenshots: Screenshots | None = None,
                   rehearsal: str = "") -> MailReadiness:
    """The verdicts ``mail`` reports: each shared step once, each per-tenant step per tenant;
    ready when all are aangetoond and the run is no rehearsal (``rehearsal`` says why it is)."""
    rows: list[StepStatus] = []
    for label in mail.reports:
        item = find(label)
        if item is None:
            continue
        for tenant in (tenants if item.per_tenant else [None]):
            rows.append(step_status(item, tenant, outcomes, screenshots))
    missing = [r for r in rows if r.status != PROVEN]
    reasons = []
    if rehearsal:
        reasons.append(f"dit is een oefening ({rehearsal})")
    if missing:
        names = sorted({r.step.label for r in missing})
        reasons.append("nog niet aangetoond: " + ", ".join(names))
    return MailReadiness(mail, tuple(rows), not reasons, "; ".join(reasons))


def tenant_outcomes(tenant: Tenant | None, outcomes: Sequence[TestOutcome],
                    env: str) -> list[TestOutcome]:
    """The results of ``tenant`` (per-tenant results labelled with it) in ``env``'s process."""
    process = process_of(env)
    if tenant is None:
        return [o for o in outcomes if _steps_of(o, process)]
    return list(_index(outcomes).by_process_tenant.get((process, tenant.oin), ()))


def shared_outcomes(outcomes: Sequence[TestOutcome], env: str) -> list[TestOutcome]:
    """The results of ``env``'s process that are about no single tenant."""
    return list(_index(outcomes).by_process_tenant.get((process_of(env), None), ()))


def steps_in(outcome: TestOutcome, env: str) -> list[Step]:
    """The steps of ``env``'s process ``outcome`` is labelled with."""
    return list(_steps_of(outcome, process_of(env)))


_COLOURS = {PROVEN: "#2e7d32", FAILED: "#c62828", WAITING: "#b26a00", OPEN: "#757575"}
_BOX_W, _BOX_H, _GAP, _LABEL_W, _ROW_H = 112, 48, 10, 210, 60


def _wrap(text: str, width: int = 16) -> list[str]:
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


def progress_svg(env: str, tenants: Sequence[Tenant | None], outcomes: Sequence[TestOutcome],
                 screenshots: Screenshots | None = None, *, rehearsal: bool = False) -> str:
    """An SVG with one row per tenant and one box per part of ``env``'s aansluitproces,
    coloured aangetoond (green), mislukt (red), wacht op u (amber) or niet aangetoond (grey);
    in a ``rehearsal`` green says "geoefend". Self-contained: no fonts, scripts or links."""

    def shown(status: str) -> str:
        return "geoefend" if rehearsal and status == PROVEN else status

    parts = parts_for(env)
    process = process_of(env).upper()
    width = _LABEL_W + len(parts) * (_BOX_W + _GAP) + 10
    height = 40 + len(tenants) * _ROW_H + 30
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="11">',
        f"<title>Voortgang aansluitproces {process}</title>",
        f'<text x="8" y="22" font-size="14" font-weight="bold">Aansluitproces {process}'
        f" ({len(parts)} {'delen' if process == 'PRE' else 'stappen'})</text>",
    ]
    for row, tenant in enumerate(tenants):
        y = 40 + row * _ROW_H
        label = "Alle tests" if tenant is None else tenant.name
        out.append(f'<text x="8" y="{y + _BOX_H // 2 - 2}" font-weight="bold">'
                   f"{esc(label[:32])}</text>")
        if tenant is not None:
            out.append(f'<text x="8" y="{y + _BOX_H // 2 + 12}" fill="#555">'
                       f"OIN {esc(tenant.oin)}</text>")
        for index, part in enumerate(parts):
            x = _LABEL_W + index * (_BOX_W + _GAP)
            status = part_status(part, tenant, outcomes, screenshots)
            if index:
                out.append(f'<line x1="{x - _GAP}" y1="{y + _BOX_H // 2}" x2="{x}" '
                           f'y2="{y + _BOX_H // 2}" stroke="#777" stroke-width="2"/>')
            out.append(f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" '
                       f'fill="{_COLOURS[status]}"><title>{esc(part.feature)}: {shown(status)}'
                       "</title></rect>")
            out.append(f'<text x="{x + 5}" y="{y + 14}" fill="#fff" font-weight="bold">'
                       f"{part.number}. {esc(shown(status))}</text>")
            for line_no, line in enumerate(_wrap(part.title)):
                out.append(f'<text x="{x + 5}" y="{y + 28 + 12 * line_no}" fill="#fff">'
                           f"{esc(line)}</text>")
    legend_y = 40 + len(tenants) * _ROW_H + 6
    for index, status in enumerate(STATUSES):
        x = 8 + index * 140
        out.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" '
                   f'fill="{_COLOURS[status]}"/><text x="{x + 17}" y="{legend_y + 11}">'
                   f"{shown(status)}</text>")
    out.append("</svg>")
    return "\n".join(out)
