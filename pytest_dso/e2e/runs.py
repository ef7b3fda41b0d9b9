"""The end-to-end orchestration: the chain a run needs and one flow per tenant, concurrently.

- :class:`E2eChain`: the started trigger source, the REST set-up and, in local mode, the
  simulator and the harness's reference DKA (:func:`local_chain`); what stops them.
- :class:`E2eRuns`: submit → trigger → ophalen per tenant, each computed once and cached. The
  first flow asked for starts the flows of every tenant of the run, ``concurrency`` at a time
  (as :func:`~pytest_dso.ebms.pingpong.ping_many` pings), so the tenants' waits (for the
  simulator, for their verzoeknotificaties) overlap: a tenant adds its own work, not its waits
  (``benchmarks/bench_tenants.py`` measures what it adds). Each tenant keeps its own result,
  REST log and VTH outcome; triggers are matched per tenant over the session's whole trigger
  log.

Framework-free: the pytest layer (:mod:`pytest_dso.fixtures.e2e`) resolves the fixtures and
turns :class:`E2eSetupError` into a failed test.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.behandeldienstconfiguratie import BehandeldienstconfiguratieClient
from pytest_dso.dso.indienen import IndienenClient
from pytest_dso.dso.rest import (
    ApiError,
    Exchange,
    ExchangeLog,
    RestConfig,
    RestSession,
    SharedClients,
)
from pytest_dso.dso.routering import VerzoeksrouteringClient
from pytest_dso.dso.shapes import ActiviteitRef, BehandeldienstConfiguratie
from pytest_dso.e2e.flow import FlowDeps, FlowResult, Submission, run_flow, submit_automatic
from pytest_dso.e2e.local import ReferenceDka
from pytest_dso.e2e.openapi import OpenApiDocument, OpenApiError
from pytest_dso.e2e.ophalen import Ophaler
from pytest_dso.e2e.plan import PlanError, SubmissionPlan, plan_for
from pytest_dso.e2e.vth import VerzoekForVth, VthCheck, VthOutcome
from pytest_dso.environments import EnvironmentProfile
from pytest_dso.findings import Finding, error
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.settings import DsoSettings
from pytest_dso.sim.server import Simulator
from pytest_dso.tenants import Tenant
from pytest_dso.triggers.base import TriggerClaims, TriggerSource
from pytest_dso.triggers.manual import ManualInputError, parse_manual
from pytest_dso.triggers.registry import LocalContext, build_local

#: How many tenants' flows run at the same time (as many as ``ping_many`` pings by default).
DEFAULT_CONCURRENCY = 16


class E2eSetupError(ValueError):
    """A tenant's flow cannot start (no plan for its type, an unreadable
    ``--dso-verzoeknummer``); the message says what to configure."""


@dataclass
class E2eChain:
    """The trigger source and what it needs, for one session."""

    settings: DsoSettings
    environment: EnvironmentProfile
    source: TriggerSource
    rest: RestConfig
    trust: tuple[x509.Certificate, ...]
    simulator: Simulator | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    forward_errors: Callable[[], list[str]] = field(default=list)
    #: The CPA's RetryInterval as text (for the hint when a trigger does not come).
    retry_interval: str | None = None

    def close(self) -> None:
        """Stop everything started for the chain (reverse order)."""
        close_all(self.closers)


def local_chain(settings: DsoSettings, environment: EnvironmentProfile, sim: Simulator,
                scratch: Path, *, plugin_source: TriggerSource | None = None,
                closers: list[Callable[[], None]] | None = None) -> E2eChain:
    """Local mode: the trigger source of ``[triggers] source`` (or ``plugin_source``) fed by
    the harness's reference DKA, which ``sim`` delivers to. The REST clients get the
    simulator's API key as a value. ``closers`` already holds what the caller started."""
    closers = closers if closers is not None else []
    trust = tuple(sim.trust_anchors)
    api = settings.file.api
    rest = RestConfig(base_urls={**sim.api_base_urls, **api.base_urls},
                      paths=dict(api.paths), acting_oin_header=api.acting_oin_header,
                      api_key=sim.api_key, rerouting_version=api.rerouting_version)
    dka_identity = sim.identities.party("digikoppelaar")
    vth_identity = sim.identities.party("leverancier")
    try:
        wired = build_local(settings.file.triggers.source, LocalContext(
            settings.file.triggers, dka_identity=dka_identity, vth_identity=vth_identity,
            trust=trust, scratch=scratch, verzoeknummer=settings.verzoeknummer,
            plugin_source=plugin_source))
        closers.extend(wired.closers)
        wired.source.start()
        closers.append(wired.source.stop)
        dka = ReferenceDka(dka_identity, trust, source=wired.receiver,
                           forwarders=wired.forwarders)
        dka.start()
        closers.append(dka.stop)
        dka.attach(sim)
    except BaseException:
        close_all(closers)
        raise
    return E2eChain(settings, environment, wired.source, rest, trust, sim, closers, dka.errors)


def close_all(closers: list[Callable[[], None]]) -> None:
    """Call every closer, last first, even when one fails."""
    while closers:
        closer = closers.pop()
        try:
            closer()
        except Exception:  # noqa: S112 - teardown must stop every other part too
            continue


def retry_interval_text(cpa: Any) -> str | None:
    """The longest RetryInterval in the CPA, e.g. ``"PT3H (10800 s)"``; ``None`` without one."""
    intervals = [d.retry_interval for party in getattr(cpa, "parties", ())
                 for d in party.doc_exchanges.values() if d.retry_interval is not None]
    if not intervals:
        return None
    seconds = max(intervals).total_seconds()
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    iso = "PT" + "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return f"{iso if iso != 'PT' else 'PT0S'} ({seconds:g} s)"


def ensure_local_routing(chain: E2eChain, plan: SubmissionPlan,
                         identity: Identity | None) -> list[Finding]:
    """Local mode: make the gemeente route the activiteit to the behandeldienst (once)."""
    bg = plan.bevoegd_gezag
    with RestSession(chain.rest, None, chain.trust) as public:
        advies = VerzoeksrouteringClient(public).bepaal([plan.activiteit], locatie_oin=bg.oin)
    if advies.behandeldienst is not None and advies.behandeldienst.oin == plan.tenant.oin:
        return []
    with RestSession(chain.rest, identity, chain.trust, acting_oin=bg.oin) as session:
        client = BehandeldienstconfiguratieClient(session, writes_allowed=True)
        client.create(BehandeldienstConfiguratie(
            oin=bg.oin, activiteit=ActiviteitRef(plan.activiteit, bg.oin),
            behandeldienst_oin=plan.tenant.oin))
    return []


class E2eRuns:
    """One flow per tenant per session (tests for trigger, ophalen and VTH share it).

    ``pki``: the local test PKI (local mode submits with its leverancier and routes with its
    parties; ``None`` outside local mode). ``prefetch``: the tenants whose flows the first
    :meth:`flow` starts together (default: every tenant); a flow asked for outside them starts
    on its own.
    """

    def __init__(self, chain: E2eChain, tenants: Sequence[Tenant], pki: TestPki | None,
                 openapi: dict[str, OpenApiDocument], say: Callable[[str], None],
                 started_at: dt.datetime | None = None, *,
                 prefetch: Iterable[Tenant] | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.chain = chain
        self.tenants = {t.oin: t for t in tenants}
        self.pki = pki
        self.openapi = openapi
        self.say = say
        self.concurrency = max(1, concurrency)
        self._prefetch = tuple(prefetch) if prefetch is not None else tuple(self.tenants.values())
        self._prefetched = False  # every prefetched tenant's flow has been started
        self._leverancier: Identity | None = None  # the local submissions' identity
        self._lock = threading.Lock()
        self._futures: dict[str, Future[FlowResult]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._vth: dict[str, VthOutcome] = {}
        self._sessions: list[RestSession] = []
        settings = chain.settings
        #: The session's trigger log, matched per tenant (see :class:`TriggerClaims`).
        self.claims = TriggerClaims(chain.source, started_at=started_at,
                                    lookback=settings.file.triggers.lookback)
        self._logs: dict[str, ExchangeLog] = {}
        self._openapi_lock = threading.Lock()
        # one client per identity for all flows: one key load, kept-alive connections
        self._clients = SharedClients(chain.rest, chain.trust,
                                      max_idle_per_host=self.concurrency)

    def log(self, oin: str) -> ExchangeLog:
        """The REST exchanges made for the tenant with ``oin`` (submission and ophalen)."""
        with self._lock:
            return self._logs.setdefault(oin, ExchangeLog())

    def exchanges(self, tenant: Tenant, *apis: str) -> tuple[Exchange, ...]:
        """The recorded REST calls for ``tenant`` (of ``apis`` only, when given)."""
        with self._lock:
            found = self._logs.get(tenant.oin)
        items = found.exchanges if found is not None else ()
        return tuple(e for e in items if not apis or e.api in apis)

    def _served_openapi(self, client: AfhandelenClient) -> OpenApiDocument | None:
        """The afhandelen ``openapi.json`` the API serves itself (the simulator does); fetched
        once for all flows."""
        with self._openapi_lock:
            if "afhandelen" in self.openapi:
                return self.openapi["afhandelen"]
            try:
                response = client.openapi()
            except ApiError:
                return None
            if not response.ok:
                return None
            try:
                document = OpenApiDocument.from_bytes("afhandelen", response.body, response.url)
            except OpenApiError:
                return None
            self.openapi["afhandelen"] = document
            return document

    def close(self) -> None:
        """Stop starting flows, wait for the running ones (each bounded by its timeouts) and
        close the REST sessions."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._clients.close()

    def _rest(self, identity: Identity | None, oin: str,
              acting_oin: str | None) -> RestSession:
        """A REST session for ``identity`` whose calls land in the log of tenant ``oin``."""
        session = self._clients.session(identity, acting_oin=acting_oin,
                                        recorder=self.log(oin).record)
        with self._lock:
            self._sessions.append(session)
        return session

    def _session(self, tenant: Tenant) -> RestSession:
        return self._rest(tenant.identity, tenant.oin, tenant.oin)

    def _ophaler(self, oin: str) -> Ophaler:
        client = AfhandelenClient(self._session(self.tenants[oin]))
        return Ophaler(client, openapi=self._served_openapi(client))

    def _identity_of(self, oin: str) -> Identity | None:
        tenant = self.tenants.get(oin)
        if tenant is not None and tenant.identity is not None:
            return tenant.identity
        if self.pki is None:
            return None
        slug = next((p.slug for p in self.pki.parties if p.oin == oin), None)
        return self.pki.identity(slug) if slug else None

    def _submitter(self) -> Callable[[SubmissionPlan], tuple[Submission | None, list[Finding]]]:
        if self.pki is None:
            raise E2eSetupError("local submissions act with the test PKI's leverancier; "
                                "none was given")
        leverancier = self._leverancier
        if leverancier is None:
            leverancier = self._leverancier = self.pki.identity("leverancier")

        def submit(plan: SubmissionPlan) -> tuple[Submission | None, list[Finding]]:
            found: list[Finding] = []
            if plan.via_behandeldienst:
                try:
                    found += ensure_local_routing(self.chain, plan,
                                                  self._identity_of(plan.bevoegd_gezag.oin))
                except ApiError as exc:
                    return None, [error("e2e.submission.routing",
                                        f"cannot route {plan.activiteit!r} of "
                                        f"{plan.bevoegd_gezag.oin} to {plan.tenant.oin}: {exc}",
                                        "", f"tenant {plan.tenant.oin}")]
            session = self._rest(leverancier, plan.tenant.oin, None)
            submission, more = submit_automatic(IndienenClient(session), plan)
            return submission, found + more

        return submit

    def _run(self, tenant: Tenant) -> FlowResult:
        settings = self.chain.settings
        try:
            plan = plan_for(tenant, settings.bevoegde_gezagen(), self.chain.environment)
        except PlanError as exc:
            raise E2eSetupError(str(exc)) from None
        try:
            given = parse_manual(settings.verzoeknummer)
        except ManualInputError as exc:
            raise E2eSetupError(str(exc)) from None
        deps = FlowDeps(
            env=settings.env,
            source=self.chain.source,
            timeout=float(settings.file.triggers.timeout),
            ophaler_for=self._ophaler,
            submitter=self._submitter() if settings.env == "local" else None,
            given=given,
            only_tenant=len(self.tenants) == 1,
            say=self.say,
            ticket=settings.ticket,
            xsd_dir=settings.file.stam.xsd_dir,
            verzoeknummer_pattern=settings.file.stam.verzoeknummer_pattern,
            claims=self.claims,
            retry_interval=self.chain.retry_interval,
        )
        return run_flow(plan, deps)

    def start(self, tenants: Iterable[Tenant]) -> None:
        """Start the flows of ``tenants`` not started yet, ``concurrency`` at a time."""
        with self._lock:
            for tenant in tenants:
                if tenant.oin in self._futures:
                    continue
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency,
                                                    thread_name_prefix="dso-e2e-flow")
                self._futures[tenant.oin] = self._pool.submit(self._run, tenant)

    def flow(self, tenant: Tenant) -> FlowResult:
        """The (cached) end-to-end result for ``tenant``; the first call starts the flows of
        every prefetched tenant. Raises :class:`E2eSetupError` when the flow cannot start."""
        if not self._prefetched:
            self.start(self._prefetch)
            self._prefetched = True
        self.start((tenant,))
        with self._lock:
            future = self._futures[tenant.oin]
        return future.result()

    def flows(self, tenants: Iterable[Tenant]) -> list[FlowResult | E2eSetupError]:
        """The flows of ``tenants`` (run concurrently), each a result or why it could not
        start."""
        wanted = list(tenants)
        self.start(wanted)
        out: list[FlowResult | E2eSetupError] = []
        for tenant in wanted:
            try:
                out.append(self.flow(tenant))
            except E2eSetupError as exc:
                out.append(exc)
        return out

    def verzoeknummers(self) -> list[str | None]:
        """The verzoeknummers of the flows finished so far."""
        with self._lock:
            done = [f for f in self._futures.values() if f.done() and not f.cancelled()]
        return [f.result().verzoeknummer for f in done if f.exception() is None]

    def vth(self, tenant: Tenant, check: VthCheck) -> VthOutcome:
        """The (cached) VTH outcome for ``tenant``."""
        result = self.flow(tenant)
        with self._lock:
            if tenant.oin in self._vth:
                return self._vth[tenant.oin]
        ophalen = result.ophalen
        verzoek = VerzoekForVth(
            verzoeknummer=result.verzoeknummer or "",
            tenant_oin=tenant.oin,
            tenant_name=tenant.name,
            env=self.chain.settings.env,
            verzoek=ophalen.verzoek if ophalen else None,
            stam_xml=ophalen.stam_xml if ophalen else b"",
            pdf=ophalen.pdf if ophalen else b"",
            documents={d.document_id: d.content for d in ophalen.documents} if ophalen else {},
            ticket=self.chain.settings.ticket,
        )
        try:
            outcome = check(verzoek)
        except Exception as exc:
            outcome = VthOutcome("error", f"the VTH check raised {type(exc).__name__}: {exc}")
        with self._lock:
            self._vth[tenant.oin] = outcome
        return outcome
