"""The embedded DSO-LV simulator: REST APIs, an ebMS 2.0 MSH and reliable trigger delivery.

Usable without pytest::

    with Simulator(SimOptions(dka_endpoint="https://127.0.0.1:8443/ebms"),
                   store_path=Path("reports/dso-sim/dso-sim.sqlite")) as sim:
        print(sim.ebms_url, sim.api_url("afhandelen"))

Two HTTPS listeners on 127.0.0.1 (port 0 unless fixed by option): one for ebMS (client
certificate required) and one for the five REST APIs (client certificate optional: the
``overheid`` APIs answer 401 without one, the ``publiek`` APIs need ``x-api-key``). Everything
is kept in the SQLite store; a restart on the same store resumes pending deliveries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from pytest_dso.ebms.cpa import Cpa, CpaError, parse_cpa
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.control import control_handler
from pytest_dso.sim.cpas import CpaRegistry, offered_cpa_problems, simulator_cpa
from pytest_dso.sim.delivery import Delivery, DeliveryScheduler, RetryPolicy, SendOutcome
from pytest_dso.sim.domain.mandates import Mandaat, MandateTable
from pytest_dso.sim.domain.submission import Notification
from pytest_dso.sim.ebms_side import EbmsSide
from pytest_dso.sim.faults import FaultInjector
from pytest_dso.sim.identities import DKA_SLUG, IdentityError, SimIdentities, test_pki_in
from pytest_dso.sim.journal import StoreJournal
from pytest_dso.sim.rest import (
    afhandelen,
    behandeldienstconfiguratie,
    cpa_aanbieden,
    indienen,
    verzoeksroutering,
)
from pytest_dso.sim.rest.backend import Caller
from pytest_dso.sim.rest.router import RestRouter
from pytest_dso.sim.services import Organisation, SimServices
from pytest_dso.sim.store import DEFAULT_FILENAME, Store
from pytest_dso.transport.api import ApiError
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import HttpsServer, Request, Response

log = logging.getLogger("pytest_dso.sim")

#: Path of the ebMS endpoint on the ebMS listener.
EBMS_PATH = "/ebms"
#: Slugs of test-PKI parties that get every mandate for every bevoegd gezag by default.
MANDATED_SLUGS = ("digikoppelaar", "leverancier")

DeliveryListener = Callable[[Delivery], None]


class SimulatorError(RuntimeError):
    """The simulator cannot start or do what was asked; the message says why."""


def default_mandates(options: SimOptions, identities: SimIdentities) -> MandateTable:
    """Every mandate for the test PKI's Digikoppelaar and leverancier on behalf of every
    configured bevoegd gezag and behandeldienst (the usual local set-up)."""
    table = MandateTable()
    clients = [identities.parties[s].oin for s in MANDATED_SLUGS if s in identities.parties]
    targets = {bg.oin for bg in options.bevoegde_gezagen}
    targets |= {bd for bg in options.bevoegde_gezagen for bd in bg.behandeldiensten}
    for client in clients:
        if client:
            for target in sorted(targets):
                table = table.grant(client, target)
    return table


def _organisations(options: SimOptions, identities: SimIdentities) -> list[Organisation]:
    names = {i.oin: i.certificate.subject.rfc4514_string() for i in identities.parties.values()}
    out = {bg.oin: Organisation(bg.oin, bg.name, bg.type) for bg in options.bevoegde_gezagen}
    for bg in options.bevoegde_gezagen:
        for bd in bg.behandeldiensten:
            out.setdefault(bd, Organisation(bd, names.get(bd, f"Behandeldienst {bd}"),
                                            "omgevingsdienst"))
    return list(out.values())


class Simulator:
    """The embedded DSO-LV. ``pki`` is a :class:`TestPki`, ready :class:`SimIdentities`
    (e.g. the user's own certificates), or ``None`` for a test PKI kept in the state folder.
    ``store_path`` is the SQLite file; its folder also holds certificates, CPAs and the API
    key file. Without it, a temporary folder is used and removed on :meth:`stop`."""

    def __init__(
        self,
        config: SimOptions | None = None,
        pki: TestPki | SimIdentities | None = None,
        store_path: Path | None = None,
        *,
        mandates: MandateTable | None = None,
    ) -> None:
        self.options = config or SimOptions()
        self._tmp: Path | None = None
        if store_path is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="dso-sim-"))
            store_path = self._tmp / DEFAULT_FILENAME
        self.store_path = Path(store_path)
        self.state_dir = self.store_path.parent
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(pki, TestPki):
            self.identities = SimIdentities.from_test_pki(pki)
        elif isinstance(pki, SimIdentities):
            self.identities = pki
        else:
            self.identities = test_pki_in(self.state_dir / "certs")
        oin = self.identities.server.oin
        if not oin:
            raise SimulatorError("the simulator certificate has no OIN in subject.serialNumber")
        self.sim_oin: str = oin
        self.faults = FaultInjector(self.options.faults)
        self._api_key = self.options.effective_api_key()
        self._control_key = self.options.effective_control_key(self._api_key)
        self._mandates = mandates or default_mandates(self.options, self.identities)
        self._lock = threading.RLock()
        self._listeners: list[DeliveryListener] = []
        # Its own lock: a delivery ends (and calls the listeners) while stop() holds _lock.
        self._listeners_lock = threading.Lock()
        self._store: Store | None = None
        self._services: SimServices | None = None
        self._scheduler: DeliveryScheduler | None = None
        self._api: HttpsServer | None = None
        self._ebms: HttpsServer | None = None
        self._client: HttpClient | None = None
        self._ebms_side: EbmsSide | None = None
        self._router: RestRouter | None = None
        self.cpas = CpaRegistry(self.sim_oin, self.state_dir / "cpas")
        self._cpa_interval = 3 * 3600.0
        self.policy = self._policy()

    def __repr__(self) -> str:
        state = f"ebms={self.ebms_url}" if self.running else "stopped"
        return f"Simulator({state}, store={self.store_path})"

    # -- properties -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._api is not None

    @property
    def api_key(self) -> str:
        """The ``x-api-key`` of this run (keep it out of logs)."""
        return self._api_key

    @property
    def control_key(self) -> str:
        """The key of the control API ``/_sim`` (header ``x-dso-sim-control-key``; keep it
        out of logs). Never the public ``x-api-key``."""
        return self._control_key

    @property
    def store(self) -> Store:
        """The open store (after :meth:`start`)."""
        if self._store is None:
            raise SimulatorError("the simulator is not running")
        return self._store

    @property
    def services(self) -> SimServices:
        """The services behind the REST APIs (after :meth:`start`)."""
        if self._services is None:
            raise SimulatorError("the simulator is not running")
        return self._services

    @property
    def ebms_url(self) -> str:
        """The URL of the simulator's ebMS endpoint."""
        if self._ebms is None:
            raise SimulatorError("the simulator is not running")
        return self._ebms.url + EBMS_PATH

    @property
    def api_origin(self) -> str:
        """``https://host:port`` of the REST listener."""
        if self._api is None:
            raise SimulatorError("the simulator is not running")
        return self._api.url

    def api_url(self, name: str) -> str:
        """The base URL of API ``name`` (``afhandelen``, ``behandeldienstconfiguratie``,
        ``verzoeksroutering``, ``indienen``, ``cpa_aanbieden``)."""
        bases = {str(m.NAME): str(m.BASE_PATH) for m in _API_MODULES}
        bases["indienen"] = indienen.base_path(self.options.indienen_version)
        if name == afhandelen.V1_NAME:
            return self.api_origin + afhandelen.V1_BASE_PATH
        if name not in bases:
            raise KeyError(f"no simulated API {name!r}; known: {', '.join(bases)}")
        return self.api_origin + bases[name]

    @property
    def api_base_urls(self) -> Mapping[str, str]:
        """Every API's base URL by name (for ``[api.base_urls]`` and the environment)."""
        return MappingProxyType({m.NAME: self.api_url(m.NAME) for m in _API_MODULES})

    @property
    def trust_anchors(self) -> tuple[x509.Certificate, ...]:
        """The CA certificates the simulator trusts and its certificate chains to."""
        return self.identities.trust

    @property
    def cpa_path(self) -> Path:
        """Where the CPA for the local DKA is written (see :meth:`write_local_cpa`)."""
        return self.state_dir / "cpa.xml"

    # -- life cycle -------------------------------------------------------------------------
    def _policy(self) -> RetryPolicy:
        o = self.options
        cpa = next(iter(reversed(self.cpas.all())), None)
        retries, interval = 8, 3 * 3600.0
        if cpa is not None:
            party = cpa.party_by_oin(self.sim_oin)
            exchange = next(iter(party.doc_exchanges.values()), None) if party else None
            if exchange is not None and exchange.retries is not None:
                retries = exchange.retries
            if exchange is not None and exchange.retry_interval is not None:
                interval = exchange.retry_interval.total_seconds()
        self._cpa_interval = interval if o.retry_interval is None else o.retry_interval
        interval = o.retry_interval if o.retry_interval is not None else interval * o.time_scale
        retries = o.retries if o.retries is not None else retries
        return RetryPolicy(retries, max(interval, 0.01), o.time_to_live)

    def _own_cpa_port(self) -> int | None:
        """The port of the simulator's endpoint in its newest CPA, so a restart keeps the
        address the DKA sends its Acknowledgments and Pongs to."""
        for cpa in reversed(self.cpas.all()):
            party = cpa.party_by_oin(self.sim_oin)
            for transport in party.transports.values() if party else ():
                if transport.endpoint:
                    split = urlsplit(transport.endpoint)
                    if split.hostname in (self.options.host, "localhost") and split.port:
                        return split.port
        return None

    def _server_context(self, require_client_certificate: bool) -> ssl.SSLContext:
        context = self.identities.apply_trust_flags(self.identities.server.server_context(
            self.identities.trust, require_client_certificate=require_client_certificate
        ))
        bad: dict[str, ssl.SSLContext] = {}

        def pick(sock: ssl.SSLObject | ssl.SSLSocket, _name: str | None,
                 _ctx: ssl.SSLContext) -> None:
            mode = self.faults.server_certificate()
            if mode is None:
                return
            if mode not in bad:
                bad[mode] = self.identities.apply_trust_flags(
                    self.identities.bad_server_identity(mode).server_context(
                        self.identities.trust,
                        require_client_certificate=require_client_certificate,
                    ))
            sock.context = bad[mode]

        context.sni_callback = pick
        return context

    def start(self) -> Simulator:
        """Open the store, bind both listeners and start delivering."""
        with self._lock:
            if self.running:
                return self
            o = self.options
            store = Store(self.store_path)
            self._store = store
            self._client = HttpClient(
                self.identities.apply_trust_flags(
                    self.identities.server.client_context(self.identities.trust)),
                connect_timeout=o.send_timeout, read_timeout=o.send_timeout,
                max_idle_per_host=max(8, o.workers), label="dso-sim",
            )
            self._services = SimServices(
                store,
                organisations=_organisations(o, self.identities),
                mandates=self._mandates,
                notify=self._notify,
                cpa_offer=self._offer_cpa,
                cpa_list=self._cpa_summaries,
                quotas=o.quotas,
                verzoeknummer_share=o.verzoeknummer_share,
            )
            apis = [
                afhandelen.build(self._services, o.paths, o.acting_oin_header),
                afhandelen.build(self._services, o.paths, o.acting_oin_header, version="v1"),
                behandeldienstconfiguratie.build(self._services, o.paths, o.acting_oin_header),
                verzoeksroutering.build(self._services, o.paths),
                indienen.build(self._services, o.paths, o.indienen_version,
                               o.quotas.max_document),
                cpa_aanbieden.build(self._services, o.paths, o.acting_oin_header),
            ]
            router = RestRouter(apis, self._api_key,
                                control_handler(self.faults, store, self.status),
                                control_key=self._control_key)
            self._router = router
            if o.cpa is not None:
                try:
                    self.cpas.install(o.cpa.read_bytes())
                except (CpaError, ValueError, OSError) as exc:
                    self._close_quietly()
                    raise SimulatorError(f"cannot use the CPA {o.cpa}: {exc}") from None
            ebms_port = o.ebms_port or self._own_cpa_port() or 0
            self._ebms = HttpsServer(self._server_context(True), host=o.host, port=ebms_port,
                                     limits=o.limits, name="dso-sim-ebms")
            self._ebms.route("*", "/", self._handle_ebms)
            self._api = HttpsServer(self._server_context(False), host=o.host, port=o.api_port,
                                    limits=o.limits, name="dso-sim-api",
                                    max_body=o.quotas.max_body,
                                    spool_folder=self._services.uploads_folder(),
                                    streamed=router.stream_limit,
                                    stream_limit_hint=" ([simulator.limits] max_document)")
            self._api.route("*", "/", self._handle_api)
            try:
                self._ebms.start()
                self._api.start()
            except OSError as exc:
                self._close_quietly()
                hint = (f" (port {ebms_port} is the simulator's endpoint in its CPA; free it or "
                        "use a fresh output folder)" if ebms_port else "")
                raise SimulatorError(f"cannot listen on {o.host}: {exc}{hint}") from None
            if o.dka_endpoint and not self.cpas.all():
                try:
                    self.install_cpa(self.local_cpa(o.dka_endpoint))
                except (IdentityError, CpaError) as exc:
                    self._close_quietly()
                    raise SimulatorError(
                        f"cannot build a CPA for {o.dka_endpoint}: {exc}"
                    ) from None
            self.policy = self._policy()
            self._ebms_side = EbmsSide(
                sim_oin=self.sim_oin, ebms_url=self.ebms_url, cpas=self.cpas, store=store,
                faults=self.faults, client=self._client, clock=self.now,
                time_to_live=self.policy.ttl, on_ack=self.acknowledge, on_error=self.reject,
                pong_delay=o.pong_delay,
            )
            self._scheduler = DeliveryScheduler(
                self._send, StoreJournal(store), self.policy,
                workers=o.workers, on_final=self._delivered,
            )
            self._scheduler.start()
            return self

    def stop(self) -> None:
        """Stop delivering, close both listeners and the store. Pending deliveries stay in
        the store and resume on the next start."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            # outside the lock: a worker finishing a delivery calls the listeners under it
            scheduler.stop()
        with self._lock:
            self._close_quietly()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def _close_quietly(self) -> None:
        for server in (self._api, self._ebms):
            if server is not None:
                server.stop()
        self._api = self._ebms = None
        self._ebms_side = None
        self._router = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._services = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- CPAs -------------------------------------------------------------------------------
    def local_cpa(self, dka_endpoint: str, dka_certificate: x509.Certificate | None = None,
                  *, dka_oin: str | None = None) -> bytes:
        """A CPA between this simulator and a DKA at ``dka_endpoint`` (default certificate:
        the test PKI's Digikoppelaar)."""
        if dka_certificate is None:
            dka_certificate = self.identities.party(DKA_SLUG).certificate
        interval = self._cpa_interval  # unscaled: a restart scales it again
        return simulator_cpa(
            self.identities.server, self.ebms_url, dka_endpoint, dka_certificate,
            dka_oin=dka_oin, sync_reply_mode=self.options.sync_reply,
            retries=self.policy.retries,
            retry_interval=dt.timedelta(seconds=max(1, round(interval))),
        )

    def install_cpa(self, xml: bytes) -> Cpa:
        """Use ``xml`` (a CPA with the simulator as party) from now on; it is kept in the
        state folder and a copy is written to :attr:`cpa_path`."""
        cpa = self.cpas.install(xml)
        self.cpa_path.write_bytes(xml)
        if self._ebms_side is not None:
            self._ebms_side.add_cpa(cpa)
        return cpa

    def _offer_cpa(self, caller: Caller, xml: bytes) -> Mapping[str, Any]:
        try:
            cpa = parse_cpa(xml)
            other = cpa.other_party(self.sim_oin)
        except (CpaError, ValueError) as exc:
            raise ApiError(400, "CPA geweigerd", str(exc)) from None
        if caller.oin is None or not (
            caller.oin == other.oin
            or self.services.mandates.may(caller.oin, other.oin or "", Mandaat.CPA_AANBIEDEN)
        ):
            raise ApiError(403, "Geen mandaat",
                           f"{caller.oin} may not offer a CPA for {other.oin}")
        intermediates = [c for i in (self.identities.server, *self.identities.parties.values())
                         for c in i.chain]
        problems = offered_cpa_problems(
            cpa, sim_oin=self.sim_oin, caller_oin=caller.oin, anchors=self.trust_anchors,
            intermediates=intermediates, existing=self.cpas.get(cpa.cpa_id), now=self.now())
        if problems:
            raise ApiError(400, "CPA geweigerd", "; ".join(problems), problems=problems)
        try:
            self.cpas.install(xml)
        except (CpaError, ValueError) as exc:
            raise ApiError(400, "CPA geweigerd", str(exc)) from None
        if self._ebms_side is not None:
            self._ebms_side.add_cpa(cpa)
        return {"cpaId": cpa.cpa_id, "partij": {"naam": other.name, "oin": other.oin},
                "endpoint": cpa.endpoint_for(other)}

    def _cpa_summaries(self) -> list[dict[str, Any]]:
        out = []
        for cpa in self.cpas.all():
            other = cpa.other_party(self.sim_oin)
            out.append({"cpaId": cpa.cpa_id, "status": cpa.status,
                        "start": cpa.start.isoformat(), "end": cpa.end.isoformat(),
                        "partij": {"naam": other.name, "oin": other.oin}})
        return out

    # -- deliveries -------------------------------------------------------------------------
    def add_delivery_listener(self, listener: DeliveryListener) -> None:
        """Call ``listener`` with every delivery that reaches a final state."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_delivery_listener(self, listener: DeliveryListener) -> None:
        """Stop calling ``listener``."""
        with self._listeners_lock, contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _delivered(self, delivery: Delivery) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(delivery)
            except Exception:  # a listener bug must not stop deliveries
                log.exception("dso-sim delivery listener failed")

    def acknowledge(self, message_id: str) -> bool:
        """An Acknowledgment of ``message_id`` arrived."""
        scheduler = self._scheduler
        return scheduler.acknowledge(message_id) if scheduler else False

    def reject(self, message_id: str, reason: str) -> bool:
        """The DKA answered ``message_id`` with a MessageError: stop retrying it."""
        scheduler = self._scheduler
        return scheduler.reject(message_id, reason) if scheduler else False

    def deliveries(self, verzoeknummer: str | None = None) -> tuple[Delivery, ...]:
        """Stored deliveries (optionally of one verzoek)."""
        return self.store.deliveries(verzoeknummer=verzoeknummer)

    def wait_for_delivery(self, verzoeknummer: str, timeout: float,
                          status: str = "acked") -> Delivery:
        """Wait until a delivery of ``verzoeknummer`` has ``status``; :class:`TimeoutError`
        with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        seen: tuple[Delivery, ...] = ()
        while time.monotonic() < deadline:
            seen = self.deliveries(verzoeknummer)
            for d in seen:
                if d.status.value == status:
                    return d
            time.sleep(0.02)
        states = ", ".join(f"{d.recipient_oin}: {d.status.value} after {d.attempts} attempt(s)"
                           f" ({d.last_error or 'no error'})" for d in seen) or "no delivery"
        raise TimeoutError(f"no {status} delivery for verzoek {verzoeknummer} within "
                           f"{timeout:g} s; seen: {states}")

    def _notify(self, note: Notification) -> str:
        """Package a verzoeknotificatie for the DKA and hand it to the scheduler."""
        scheduler = self._scheduler
        side = self._ebms_side
        if scheduler is None or side is None:
            raise SimulatorError("the simulator is not running")
        cpa = self.cpas.for_recipient(note.recipient_oin)
        try:
            built = side.notificatie_message(cpa, note)
        except CpaError as exc:
            raise ApiError(503, "Geen CPA", f"verzoek {note.verzoeknummer} was not stored: its "
                           f"verzoeknotificatie cannot be sent: {exc}") from None
        scheduler.submit(built.message_id, built.conversation_id, note.verzoeknummer,
                         note.recipient_oin, built.body, endpoint=built.endpoint,
                         content_type=built.content_type, defer=self.store.after_commit,
                         reliable=built.reliable)
        return built.message_id

    def _send(self, delivery: Delivery, attempt: int) -> SendOutcome:
        side = self._ebms_side
        if side is None:
            return SendOutcome("retry", None, "the simulator is stopping")
        return side.send(delivery, attempt)

    # -- request handling -------------------------------------------------------------------
    def _apply_faults(self, scope: str) -> Response | None:
        delay = self.faults.delay(scope)  # type: ignore[arg-type]
        if delay:
            time.sleep(delay)
        if self.faults.http_status(scope) is not None:  # type: ignore[arg-type]
            return Response.problem(503, "Service Unavailable",
                                    "injected fault: the simulator answers 503 (dso-sim faults)")
        return None

    def _handle_api(self, request: Request) -> Response:
        if not request.path.startswith("/_sim"):
            faulted = self._apply_faults("api")
            if faulted is not None:
                return faulted
        router = self._router
        if router is None:
            return Response.problem(503, "Service Unavailable", "the simulator is stopping")
        answer = router.handle(
            request.method, request.target, request.headers, request.body,
            peer_oin=request.peer_oin, has_client_certificate=request.peer is not None,
            origin=request.base_url, client=request.peer_oin or request.client_address[0],
            spooled=request.spooled,
        )
        return Response(answer.status, answer.body, answer.content_type,
                        tuple(answer.headers.items()), stream=answer.stream,
                        length=answer.length)

    def _handle_ebms(self, request: Request) -> Response:
        faulted = self._apply_faults("ebms")
        if faulted is not None:
            return faulted
        side = self._ebms_side
        if side is None:
            return Response.problem(503, "Service Unavailable", "the simulator is stopping")
        return side.handle(request)

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What the control API's ``/_sim/status`` shows."""
        scheduler = self._scheduler
        return {
            "ebmsUrl": self.ebms_url,
            "apiBaseUrls": dict(self.api_base_urls),
            "cpas": self._cpa_summaries(),
            "pendingDeliveries": scheduler.pending_count() if scheduler else 0,
            "retryPolicy": {"retries": self.policy.retries,
                            "retryInterval": self.policy.retry_interval,
                            "timeToLive": self.policy.ttl},
            "faults": self.faults.snapshot(),
        }

    def now(self) -> dt.datetime:
        """The simulator's clock: UTC now plus any injected clock skew."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.faults.clock_skew())



_API_MODULES = (afhandelen, behandeldienstconfiguratie, verzoeksroutering, indienen,
                cpa_aanbieden)
