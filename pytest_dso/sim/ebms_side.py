"""The simulator's ebMS side: packaging and sending verzoeknotificaties, and the MSH endpoint
that takes Acknowledgments, Pings and StatusRequests from the DKA: :class:`EbmsSide`, built by
the simulator with the few collaborators it needs (the CPAs, the store, the faults, the HTTP
client, the clock and where Acknowledgments and MessageErrors go).

Outgoing: one ebMS message per verzoeknotificatie under the recipient's CPA (service and action
from the CPA: what the DSO-LV party may send), ``AckRequested`` and ``DuplicateElimination``
as the CPA's channel asks, ``TimeToLive`` = Timestamp + the retry policy's TTL, the STAM
verzoeknotificatie XML as the one payload part. Responses are classified into
:class:`~pytest_dso.sim.delivery.SendOutcome`: an Acknowledgment in the response is a sync ack;
2xx without one means the ack will come separately; 408, 429 and 5xx (except 501, 505, 510)
and network failures are retried; other statuses and MessageErrors are final.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pytest_dso.ebms import constants as c
from pytest_dso.ebms import mime
from pytest_dso.ebms.cpa import Binding, Cpa, CpaError
from pytest_dso.ebms.envelope import (
    AckRequested,
    Attachment,
    EbmsMessage,
    EnvelopeError,
    build_envelope,
    message,
)
from pytest_dso.ebms.msh import Msh, MshResult, Outbound
from pytest_dso.sim.cpas import CpaRegistry
from pytest_dso.sim.delivery import Delivery, SendOutcome
from pytest_dso.sim.domain.submission import Notification
from pytest_dso.sim.faults import FaultInjector
from pytest_dso.sim.store import Store
from pytest_dso.stam.xml import render_verzoeknotificatie
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Request, Response

log = logging.getLogger("pytest_dso.sim.ebms")

#: HTTP statuses after which a sender retries (ebms-core behaviour [V], DK: 503 [C]).
_RETRY_4XX = frozenset({408, 429})
_FINAL_5XX = frozenset({501, 505, 510})


@dataclass(frozen=True)
class BuiltMessage:
    """A packaged outgoing message."""

    message_id: str
    conversation_id: str
    content_type: str
    body: bytes = field(repr=False)
    endpoint: str
    #: False when the binding requests no Acknowledgment (best effort: sent once).
    reliable: bool = True


def _host(url: str) -> str:
    return urlsplit(url).hostname or "dso-sim.localhost"


def dka_endpoint(sim_oin: str, cpa: Cpa) -> str:
    """Where the other party of ``cpa`` receives business messages from the simulator."""
    other = cpa.other_party(sim_oin)
    try:
        _, receive = business_exchange(sim_oin, cpa)
        return cpa.endpoint_for(
            other, receive.action, receive.service, service_type=receive.service_type,
            role=receive.role,
        )
    except CpaError:
        return cpa.endpoint_for(other)


def business_exchange(sim_oin: str, cpa: Cpa) -> tuple[Binding, Binding]:
    """(the simulator's send binding, the DKA's receive binding) used for verzoeknotificaties,
    keyed by service type, service, action and role: the first exchange the CPA lets the
    simulator start on a reliable channel (DSO-LV delivers with ``osb-rm``), else the first."""
    own = cpa.party_by_oin(sim_oin)
    if own is not None:
        exchanges = cpa.exchanges(own)
        reliable = [
            pair for pair in exchanges
            if pair[0].channel_id in own.channels
            and own.channels[pair[0].channel_id or ""].ack_requested == "always"
        ]
        if reliable or exchanges:
            return (reliable or exchanges)[0]
    raise CpaError(
        f"CPA {cpa.cpa_id} lets the simulator send no action the other party can receive "
        "(no matching CanSend/CanReceive bindings)"
    )


def classify(status: int | None, content_type: str, body: bytes, message_id: str,
             failure: str | None) -> SendOutcome:
    """What one POST of a business message achieved."""
    if status is None:
        return SendOutcome("retry", None, failure or "no response")
    if 200 <= status < 300:
        if status == 200 and body.strip():
            try:
                reply = mime.unpack_message(content_type, body)
            except (EnvelopeError, ValueError) as exc:
                return SendOutcome("retry", status, f"unreadable sync response: {exc}")
            if reply.acknowledgment is not None and (
                reply.acknowledgment.ref_to_message_id == message_id
            ):
                return SendOutcome("acked", status, "")
            if reply.error_list is not None:
                errors = "; ".join(f"{e.code}: {e.description or ''}"
                                   for e in reply.error_list.errors)
                return SendOutcome("fatal", status, f"MessageError: {errors}")
        return SendOutcome("sent", status, "")
    detail = f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    if status in _RETRY_4XX or (status >= 500 and status not in _FINAL_5XX):
        return SendOutcome("retry", status, detail)
    return SendOutcome("fatal", status, detail)


class EbmsSide:
    """The simulator's ebMS side, on the shared :class:`Msh` core.

    Outgoing: :meth:`notificatie_message` packages a verzoeknotificatie, :meth:`send` POSTs it
    once (twice under a ``duplicate_sends`` fault) to the DKA and classifies the answer.
    Incoming (:meth:`handle`): Acknowledgments end the reliable delivery of the
    verzoeknotificatie they refer to through ``on_ack`` (unless a ``drop_acks`` fault swallows
    them); MessageErrors end it as failed through ``on_error``. Pings, StatusRequests and
    header errors are answered by the core, asynchronously when the DKA's channel says so.
    Every message in and out is kept in ``store``.
    """

    def __init__(
        self,
        *,
        sim_oin: str,
        ebms_url: str,
        cpas: CpaRegistry,
        store: Store,
        faults: FaultInjector,
        client: HttpClient,
        clock: Callable[[], dt.datetime],
        time_to_live: float,
        on_ack: Callable[[str], object],
        on_error: Callable[[str, str], object],
        pong_delay: float = 0.0,
    ) -> None:
        self.sim_oin = sim_oin
        self.ebms_url = ebms_url
        self._cpas = cpas
        self._store = store
        self._faults = faults
        self._client = client
        self._clock = clock
        self._time_to_live = time_to_live
        self._on_ack = on_ack
        self._on_error = on_error
        self._pong_delay = pong_delay
        self.msh = Msh(cpas.all(), (sim_oin,), clock=clock, on_signal=self._signal,
                       host=_host(ebms_url), verify_client_certificate=True)

    # -- outgoing ---------------------------------------------------------------------------
    def notificatie_message(self, cpa: Cpa | None, note: Notification) -> BuiltMessage:
        """The ebMS message carrying ``note`` to its recipient (packaged, ready to POST).
        Raises :class:`CpaError` without a CPA."""
        if cpa is None:
            raise CpaError(
                f"no CPA to deliver verzoek {note.verzoeknummer} to {note.recipient_oin}: offer "
                "one (CPA aanbieden) or start the simulator with a DKA endpoint"
            )
        own = cpa.party(self.sim_oin)
        other = cpa.other_party(own)
        send, receive = business_exchange(self.sim_oin, cpa)
        channel = cpa.send_channel(
            own, send.action, send.service, service_type=send.service_type, role=send.role
        )
        now = self._clock()
        ttl = now + dt.timedelta(seconds=self._time_to_live)
        reliable = channel.ack_requested != "never"
        endpoint = dka_endpoint(self.sim_oin, cpa)
        payload = render_verzoeknotificatie(note.notificatie)
        built = message(
            cpa_id=cpa.cpa_id,
            from_party=own.party_id,
            to_party=other.party_id,
            service=send.service,
            service_type=send.service_type,
            action=send.action,
            from_role=send.role,
            to_role=receive.role or None,
            host=_host(self.ebms_url),
            time_to_live=ttl,
            ack_requested=AckRequested() if reliable else None,
            duplicate_elimination=channel.duplicate_elimination != "never",
            sync_reply=channel.sync_reply_mode not in ("none", ""),
            attachments=(Attachment(f"verzoeknotificatie-{note.verzoeknummer}@dso-sim",
                                    "application/xml", payload),),
            now=now,
        )
        content_type, body = mime.pack(built)
        return BuiltMessage(built.message_id, built.header.conversation_id, content_type, body,
                            endpoint, reliable)

    def send(self, delivery: Delivery, attempt: int) -> SendOutcome:
        """One attempt at ``delivery`` (a :data:`~pytest_dso.sim.delivery.Sender`)."""
        endpoint = delivery.endpoint
        cpa = self._cpas.for_recipient(delivery.recipient_oin)
        if not endpoint:
            if cpa is None:
                return SendOutcome("retry", None,
                                   f"no CPA for {delivery.recipient_oin}: offer one (CPA "
                                   "aanbieden) or start the simulator with a DKA endpoint")
            endpoint = dka_endpoint(self.sim_oin, cpa)
        self.expect(delivery.message_id, cpa)
        times = 2 if self._faults.duplicate_send() else 1
        outcome = SendOutcome("retry", None, "not sent")
        for _ in range(times):
            outcome = self._post(endpoint, delivery)
        return outcome

    def _post(self, endpoint: str, delivery: Delivery) -> SendOutcome:
        """POST ``delivery`` to ``endpoint`` once and classify the answer."""
        exchange = self._client.post(
            endpoint, delivery.payload,
            headers={"Content-Type": delivery.content_type, c.SOAP_ACTION_HEADER: c.SOAP_ACTION},
        )
        outcome = classify(exchange.status, exchange.content_type, exchange.response_body,
                           delivery.message_id, exchange.error)
        if outcome.kind == "acked" and self._faults.drop_ack():
            return SendOutcome("sent", outcome.http_status, "sync Acknowledgment dropped (fault)")
        return outcome

    # -- incoming ---------------------------------------------------------------------------
    def expect(self, message_id: str, cpa: Cpa | None = None) -> None:
        """Accept signals that refer to ``message_id`` (a message the simulator sent), from
        the other party of ``cpa`` only when given."""
        to = None
        if cpa is not None:
            with contextlib.suppress(CpaError):
                to = cpa.other_party(self.sim_oin)
        self.msh.expect(message_id, to)

    def add_cpa(self, cpa: Cpa) -> None:
        """Accept messages under ``cpa``."""
        self.msh.add_cpa(cpa)

    def _signal(self, signal: EbmsMessage) -> None:
        header = signal.header
        if header.action == c.ACTION_ACKNOWLEDGMENT and signal.acknowledgment is not None:
            ref = signal.acknowledgment.ref_to_message_id
            if self._faults.drop_ack():
                log.info("dso-sim: dropped the Acknowledgment of %s (fault)", ref)
                return
            self._on_ack(ref)
        elif header.action == c.ACTION_MESSAGE_ERROR and signal.error_list is not None:
            errors = "; ".join(f"{e.code}: {e.description or ''}"
                               for e in signal.error_list.errors)
            self._on_error(header.ref_to_message_id or "", f"MessageError from the DKA: {errors}")

    def handle(self, request: Request) -> Response:
        """Answer one request to the ebMS endpoint."""
        if request.method != "POST":
            return Response(405, b"", None, (("Allow", "POST"),))
        peer = request.peer.certificate if request.peer else None
        result = self.msh.handle(request.content_type, request.headers, request.body, peer)
        self._record(request, result)
        for item in result.outbound:
            threading.Thread(target=self._send_async, args=(item,), daemon=True,
                             name="dso-sim-async-reply").start()
        return Response(result.status, result.body, result.content_type)

    def _record(self, request: Request, result: MshResult) -> None:
        msg = result.message
        h = msg.header if msg else None
        kind = (h.action.lower() if h else "refused") if not result.fault else "refused"
        store = self._store
        store.add_message(
            direction="in", kind=kind, raw=request.body,
            headers={k: v for k, v in request.headers.items() if k != "authorization"},
            ebms_message_id=h.message_id if h else "",
            conversation_id=h.conversation_id if h else "",
            ref_to_message_id=(h.ref_to_message_id or "") if h else "",
            cpa_id=h.cpa_id if h else "", from_oin=h.from_party.value if h else "",
            to_oin=h.to_party.value if h else "", content_type=request.content_type,
        )
        reply = result.reply
        if reply is not None:
            store.add_message(
                direction="out", kind=reply.action.lower(), raw=build_envelope(reply),
                ebms_message_id=reply.message_id, conversation_id=reply.header.conversation_id,
                ref_to_message_id=reply.header.ref_to_message_id or "",
                cpa_id=reply.header.cpa_id, from_oin=reply.header.from_party.value,
                to_oin=reply.header.to_party.value, content_type=c.TEXT_XML,
            )

    def _send_async(self, item: Outbound) -> None:
        if self._pong_delay:
            time.sleep(self._pong_delay)
        exchange = self._client.post(item.url, item.body, headers={
            "Content-Type": item.content_type, c.SOAP_ACTION_HEADER: c.SOAP_ACTION})
        if not exchange.ok or (exchange.status or 500) >= 300:
            log.warning("dso-sim: async %s to %s failed: %s", item.message.action, item.url,
                        exchange.error or exchange.status)
