"""One end-to-end run for one tenant: submit → verzoeknotificatie → verzoek ophalen.

Three ways to get a verzoeknummer, chosen by the environment and the options:

- **automatic** (local): the simulator's indienen API submits the aansluitactiviteit; the
  trigger source must then see the verzoeknotificatie for exactly that verzoeknummer;
- **given** (``--dso-verzoeknummer``): a person already submitted; the number is fetched;
- **guided** (PRE/PROD): the exact loket steps are printed and the run waits, with a visible
  countdown bounded by ``[triggers] timeout``, for a trigger addressed to the tenant.

Every wait is matched against the session's whole trigger log (:class:`TriggerClaims`): a
trigger that arrived while another tenant was waited for, or before the run (folder, DKA
message list), is kept for its tenant. A verzoeknummer given by hand proves a submission, never
a received trigger: with the ``manual`` source the verzoek is fetched, and "Triggerbericht
ontvangen" stays for the Digikoppelaar to confirm.

Each link gets its own verdict (see :mod:`pytest_dso.e2e.ophalen` for the ophalen ones):
``e2e.submission.failed``, ``e2e.trigger.timeout`` (nothing arrived), ``e2e.trigger.other_verzoek``
(something arrived, for another verzoek), ``e2e.trigger.duplicate`` / ``e2e.trigger.late``
(kept and reported), ``e2e.trigger.recipient`` (addressed to another OIN).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_dso.dso.indienen import IndienenClient
from pytest_dso.dso.rest import ApiError
from pytest_dso.dso.shapes import (
    ActiviteitRef,
    GegenereerdeBijlage,
    IndienActiviteit,
    Indienbericht,
)
from pytest_dso.e2e.latency import Latency
from pytest_dso.e2e.ophalen import Expectation, OphaalResult, Ophaler
from pytest_dso.e2e.plan import SubmissionPlan
from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.stam.model import Organisatie, Specificatie
from pytest_dso.triggers.base import (
    Trigger,
    TriggerClaims,
    TriggerSource,
    TriggerTimeout,
    triggers_with,
    utc_now,
)

Say = Callable[[str], None]
#: Default bijlagen of an automatic submission: (seed, size in bytes).
DEFAULT_BIJLAGEN: tuple[tuple[int, int], ...] = ((4101, 48_000), (4102, 131_072))


@dataclass(frozen=True)
class Submission:
    """How the verzoeknummer came about."""

    verzoeknummer: str
    how: str  # "simulator" | "given" | "guided"
    submitted_at: dt.datetime | None = None
    verzoeknummers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowResult:
    """Everything one run found, per link."""

    plan: SubmissionPlan
    source: str
    submission: Submission | None = None
    trigger: Trigger | None = None
    ophalen: OphaalResult | None = None
    submission_findings: tuple[Finding, ...] = ()
    trigger_findings: tuple[Finding, ...] = ()
    latency: Latency = field(default_factory=Latency)
    #: Why no trigger was looked for (the source observes nothing), e.g. the manual source.
    trigger_unobserved: str = ""

    @property
    def verzoeknummer(self) -> str | None:
        """The verzoeknummer this run is about, once known."""
        if self.trigger is not None and self.trigger.verzoeknummer:
            return self.trigger.verzoeknummer
        return self.submission.verzoeknummer if self.submission else None

    @property
    def ophalen_findings(self) -> tuple[Finding, ...]:
        """The findings of the ophalen step (empty when it did not run)."""
        return self.ophalen.findings if self.ophalen else ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings of the run."""
        return (*self.submission_findings, *self.trigger_findings, *self.ophalen_findings)


def indienbericht_for(plan: SubmissionPlan, naam: str,
                      bijlagen: Sequence[tuple[int, int]] = DEFAULT_BIJLAGEN) -> Indienbericht:
    """The indienbericht of an automatic submission (the simulator's model, dso/shapes.py)."""
    bg = plan.bevoegd_gezag
    return Indienbericht(
        type=plan.verzoektype,
        naam=f"Aansluittest {plan.tenant.name}",
        locatie_oin=plan.locatie_oin,
        activiteiten=(
            IndienActiviteit(
                activiteit=ActiviteitRef(plan.activiteit, bg.oin),
                bevoegd_gezag=Organisatie(bg.oin, bg.name),
                # The process document: "fill in your name at the question in step 4".
                specificaties=(Specificatie("1", naam),),
            ),
        ),
        bijlagen=tuple(
            GegenereerdeBijlage(seed, size, f"aansluittest-{n}.pdf")
            for n, (seed, size) in enumerate(bijlagen, start=1)
        ),
        toelichting="pytest-dso aansluittest",
    )


def submit_automatic(client: IndienenClient, plan: SubmissionPlan,
                     naam: str = "pytest-dso") -> tuple[Submission | None, list[Finding]]:
    """Submit through the indienen API (local mode); the first verzoeknummer is for the
    plan's bevoegd gezag (one activiteit, so one verzoek)."""
    submitted_at = utc_now()
    try:
        nummers = client.indienen(indienbericht_for(plan, naam))
    except ApiError as exc:
        return None, [error("e2e.submission.failed",
                            f"submitting {plan.activiteit!r} to {plan.bevoegd_gezag.oin} failed: "
                            f"{exc}",
                            "check the simulator's log and the tenant set-up in dso.toml",
                            f"tenant {plan.tenant.oin}")]
    return Submission(nummers[0], "simulator", submitted_at, nummers), [
        info("e2e.submission.done",
             f"submitted {plan.activiteit!r} ({plan.toestemming}) to {plan.bevoegd_gezag.name}: "
             f"verzoeknummer {nummers[0]}", "", f"tenant {plan.tenant.oin}")
    ]


def no_trigger_hint(source: str, retry_interval: str | None = None) -> str:
    """The likely causes of a verzoeknotificatie that does not come, most likely first."""
    retry = f" ({retry_interval} in the CPA)" if retry_interval else ""
    return (
        "likely causes, most likely first: "
        f"(1) DSO-LV's delivery was refused earlier (e.g. submitted while nothing listened at "
        f"the CPA endpoint) and it retries only after the CPA's RetryInterval{retry}: wait "
        "for the retry, or submit again while the run waits; "
        f"(2) the DKA received it but does not forward it to the harness ([triggers] source = "
        f"{source!r}): check the adapter log and its hand-over (folder, forward, message "
        "list); "
        "(3) the CPA's endpoint for the tenant is not where the adapter listens (host, port, "
        "path in the CPA); "
        "(4) a firewall blocks DSO-LV's egress addresses on the adapter's inbound side"
    )


def trigger_verdict(exc: TriggerTimeout, tenant_oin: str,
                    retry_interval: str | None = None) -> Finding:
    """The finding for a wait that timed out: nothing, or something else arrived."""
    where = f"tenant {tenant_oin}, source {exc.source}"
    same = [t for t in exc.others if t.verzoeknummer == exc.verzoeknummer]
    if same:
        shown = ", ".join(sorted({t.recipient_oin or "unknown" for t in same}))
        return error("e2e.trigger.recipient",
                     f"the verzoeknotificatie for {exc.verzoeknummer} went to {shown}, none to "
                     f"the tenant {tenant_oin} within {exc.timeout:g} s",
                     "for a behandeldienst: check the behandeldienstconfiguratie of the bevoegd "
                     "gezag (activiteit, toestemming, locatie) and the Verzoeksroutering",
                     where)
    if exc.others:
        shown = "; ".join(t.describe() for t in exc.others[:5])
        return error("e2e.trigger.other_verzoek",
                     f"no verzoeknotificatie for {exc.verzoeknummer} within {exc.timeout:g} s, "
                     f"but {len(exc.others)} for something else arrived: {shown}",
                     "the adapter passes on another verzoek's trigger, or the verzoeknummer is "
                     "read from the wrong element ([triggers] verzoeknummer_xpath / _regex)",
                     where)
    return error("e2e.trigger.timeout",
                 f"no verzoeknotificatie for {exc.verzoeknummer} arrived within {exc.timeout:g} s"
                 + (f" ({exc.detail})" if exc.detail else ""),
                 no_trigger_hint(exc.source, retry_interval),
                 where)


def trigger_findings(trigger: Trigger, source: TriggerSource, tenant_oin: str,
                     claims: TriggerClaims | None = None) -> list[Finding]:
    """Notes about a received trigger: duplicates and late copies, another recipient, received
    before the run."""
    where = f"tenant {tenant_oin}, source {trigger.source}"
    found: list[Finding] = [info("e2e.trigger.received", trigger.describe(), "", where)]
    if claims is not None and claims.before_session(trigger):
        found.append(info("e2e.trigger.before_run",
                          f"the verzoeknotificatie for {trigger.verzoeknummer} was received "
                          "before this run started (kept by the source)", "", where))
    if trigger.recipient_oin and trigger.recipient_oin != tenant_oin:
        found.append(error("e2e.trigger.recipient",
                           f"the verzoeknotificatie for {trigger.verzoeknummer} is addressed to "
                           f"{trigger.recipient_oin}, not to the tenant {tenant_oin}",
                           "check the CPA's To party and the behandeldienstconfiguratie", where))
    same = triggers_with(source, trigger.verzoeknummer)
    dups = [t for t in same if t.duplicate]
    if dups:
        found.append(warning("e2e.trigger.duplicate",
                             f"{len(dups)} duplicate verzoeknotificatie(s) for "
                             f"{trigger.verzoeknummer} (kept): "
                             + "; ".join(t.describe() for t in dups[:3]),
                             "the adapter must process a re-sent message once (same MessageId)",
                             where))
    late = [t for t in same if t.late]
    if late:
        found.append(warning("e2e.trigger.late",
                             f"{len(late)} verzoeknotificatie(s) for {trigger.verzoeknummer} "
                             "arrived after the wait had timed out (kept)", "", where))
    return found


def await_trigger(source: TriggerSource, verzoeknummer: str, timeout: float,
                  tenant_oin: str, claims: TriggerClaims | None = None,
                  retry_interval: str | None = None) -> tuple[Trigger | None, list[Finding]]:
    """Wait for the trigger of ``verzoeknummer`` addressed to the tenant (one already in the
    session's log counts)."""
    try:
        try:
            trigger = source.wait_for(verzoeknummer, timeout, recipient_oin=tenant_oin)
        except TypeError:  # a plugin source implementing only wait_for(verzoeknummer, timeout)
            trigger = source.wait_for(verzoeknummer, timeout)
    except TriggerTimeout as exc:
        return None, [trigger_verdict(exc, tenant_oin, retry_interval)]
    if claims is not None:
        claims.claim(tenant_oin, trigger)
    return trigger, trigger_findings(trigger, source, tenant_oin, claims)


def await_guided(source: TriggerSource, plan: SubmissionPlan, timeout: float, say: Say,
                 *, claims: TriggerClaims | None = None, step: float = 0.2,
                 announce_every: float = 10.0, retry_interval: str | None = None,
                 ) -> tuple[Trigger | None, list[Finding]]:
    """Wait for a trigger addressed to the tenant (recipient unknown counts too) that no other
    tenant's wait took: one already in the session's log is taken at once, a new one within
    ``step`` seconds of its arrival. A countdown is printed every ``announce_every`` seconds."""
    tenant = plan.tenant.oin
    claims = claims if claims is not None else TriggerClaims(source)
    deadline = time.monotonic() + timeout
    last_say = time.monotonic()
    while True:
        trigger = claims.take(tenant)
        if trigger is not None:
            return trigger, trigger_findings(trigger, source, tenant, claims)
        left = deadline - time.monotonic()
        if left <= 0:
            others = [t for t in claims.unclaimed() if t.recipient_oin not in (None, tenant)]
            detail = "or pass --dso-verzoeknummer OIN=NUMMER"
            if others:
                detail += (f"; {len(others)} trigger(s) for other recipients are kept for their "
                           "own waits: " + "; ".join(t.describe() for t in others[:3]))
            return None, [trigger_verdict(
                TriggerTimeout("(the verzoek submitted by hand)", timeout, source.name, (),
                               detail), tenant, retry_interval)]
        if time.monotonic() - last_say >= announce_every:
            say(f"  waiting for the verzoeknotificatie for {plan.tenant.name} via "
                f"{source.name}: {int(left)} s left")
            last_say = time.monotonic()
        time.sleep(min(step, max(0.01, left)))


def guided_instructions(plan: SubmissionPlan, ticket: str | None = None) -> str:
    """The text shown on PRE/PROD before waiting."""
    lines = [
        f"Submit the aansluittest for {plan.tenant.name} ({plan.tenant.oin}) on "
        f"{plan.env.upper()}"
        + (f", ticket {ticket}" if ticket else "") + ":",
    ]
    lines += [f"  {n}. {text}" for n, text in enumerate(plan.steps(), start=1)]
    return "\n".join(lines)


@dataclass(frozen=True)
class FlowDeps:
    """What a run needs: the trigger source, how to fetch for a tenant, how to submit."""

    env: str
    source: TriggerSource
    timeout: float
    ophaler_for: Callable[[str], Ophaler]
    submitter: Callable[[SubmissionPlan], tuple[Submission | None, list[Finding]]] | None = None
    given: Mapping[str | None, str] = field(default_factory=dict)
    only_tenant: bool = True
    say: Say = print
    ticket: str | None = None
    xsd_dir: Path | None = None
    verzoeknummer_pattern: str = r"^\d{13}$"
    #: The session's claims over ``source`` (made per run when not given).
    claims: TriggerClaims | None = None
    #: The CPA's RetryInterval, for the hint when a trigger does not come.
    retry_interval: str | None = None


def _given_for(deps: FlowDeps, oin: str) -> str | None:
    if oin in deps.given:
        return deps.given[oin]
    if None in deps.given and deps.only_tenant:
        return deps.given[None]
    return None


def run_flow(plan: SubmissionPlan, deps: FlowDeps) -> FlowResult:
    """Run submit → trigger → ophalen for ``plan``'s tenant; never raises for a broken link."""
    tenant = plan.tenant.oin
    source = deps.source
    claims = deps.claims if deps.claims is not None else TriggerClaims(source)
    observes = bool(getattr(source, "observes", True))
    submission: Submission | None = None
    sub_findings: list[Finding] = []
    given = _given_for(deps, tenant)
    if given is None and deps.given and not deps.only_tenant and None in deps.given:
        sub_findings.append(error(
            "e2e.submission.ambiguous",
            "--dso-verzoeknummer gives one verzoeknummer, but the run covers several tenants",
            "give OIN=NUMMER pairs separated by commas, or limit the run with --dso-tenant",
            f"tenant {tenant}"))
        return FlowResult(plan, source.name, submission_findings=tuple(sub_findings))
    if given is not None:
        submission = Submission(given, "given")
        claims.reserve(given, tenant)
    elif deps.submitter is not None:
        submission, found = deps.submitter(plan)
        sub_findings.extend(found)
        if submission is None:
            return FlowResult(plan, source.name, submission_findings=tuple(sub_findings))
        claims.reserve(submission.verzoeknummer, tenant)
    elif not observes:
        sub_findings.append(error(
            "e2e.submission.no_verzoeknummer",
            f"the {source.name} trigger source observes nothing, so it needs the verzoeknummer "
            "of a submitted verzoek",
            "submit in the loket (steps below) and pass --dso-verzoeknummer OIN=NUMMER (pairs "
            "separated by commas for several tenants)\n" + guided_instructions(plan, deps.ticket),
            f"tenant {tenant}"))
        return FlowResult(plan, source.name, submission_findings=tuple(sub_findings))

    trigger: Trigger | None = None
    trig_findings: list[Finding] = []
    unobserved = ""
    if submission is not None and not observes:
        unobserved = (
            f"the {source.name} trigger source observes no verzoeknotificatie: verzoeknummer "
            f"{submission.verzoeknummer} ({submission.how}) proves the submission, not that the "
            "trigger arrived. The Digikoppelaar checks in the DKA that the verzoeknotificatie "
            "arrived and was passed on, or choose an observing [triggers] source (receiver, "
            "folder, http-forward, ebms-core)")
    elif submission is not None:
        trigger, trig_findings = await_trigger(source, submission.verzoeknummer, deps.timeout,
                                               tenant, claims, deps.retry_interval)
    else:
        deps.say(guided_instructions(plan, deps.ticket))
        trigger, trig_findings = await_guided(source, plan, deps.timeout, deps.say,
                                              claims=claims, retry_interval=deps.retry_interval)
        if trigger is not None:
            submission = Submission(trigger.verzoeknummer, "guided")
    latency = Latency(submission.submitted_at if submission else None,
                      trigger.received_at if trigger else None)
    verzoeknummer = trigger.verzoeknummer if trigger is not None else (
        submission.verzoeknummer if submission is not None and unobserved else None)
    if verzoeknummer is None or submission is None:
        return FlowResult(plan, source.name, submission, None, None, tuple(sub_findings),
                          tuple(trig_findings), latency, unobserved)
    expectation = Expectation(
        tenant_oin=tenant,
        verzoeknummer=verzoeknummer,
        verzoektype=plan.verzoektype,
        bevoegd_gezag_oin=plan.bevoegd_gezag.oin,
        verzoeknummer_pattern=deps.verzoeknummer_pattern,
        xsd_dir=deps.xsd_dir,
    )
    result = deps.ophaler_for(tenant).fetch(expectation)
    fetched_at = result.fetched_at or utc_now()
    latency = Latency(latency.submitted_at, latency.triggered_at, fetched_at)
    return FlowResult(plan, source.name, submission, trigger, result, tuple(sub_findings),
                      tuple(trig_findings), latency, unobserved)


def end_of_run_findings(source: TriggerSource, expected: Sequence[str]) -> list[Finding]:
    """Triggers nobody asked for, unreadable payloads and late arrivals, for the final report."""
    found: list[Finding] = []
    wanted = set(expected)
    for trigger in source.all():
        where = f"source {trigger.source}"
        if trigger.problem:
            found.append(warning("e2e.trigger.unreadable",
                                 "a payload without a readable verzoeknummer: "
                                 + trigger.describe(),
                                 "configure [triggers] verzoeknummer_xpath or _regex for the "
                                 "adapter's format", where))
        elif trigger.verzoeknummer not in wanted:
            found.append(info("e2e.trigger.unmatched",
                              f"a trigger no test waited for: {trigger.describe()}", "", where))
    return found
