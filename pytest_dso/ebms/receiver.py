"""An mTLS ebMS endpoint: :class:`~pytest_dso.transport.server.HttpsServer` plus an
:class:`~pytest_dso.ebms.msh.Msh`, recording every message it sees.

The harness runs one at its CPA endpoint (``[ebms] listen``) to catch asynchronous Pongs,
Acknowledgments, MessageErrors and business messages; in local mode another one, with the test
PKI's DSO-LV identity, stands in for the MSH under test. Asynchronous replies the MSH decides on
are POSTed from a small worker pool after the HTTP response has been written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

from cryptography import x509

from pytest_dso.ebms import mime
from pytest_dso.ebms.client import EbmsClient, SendResult
from pytest_dso.ebms.cpa import Cpa, parse_cpa
from pytest_dso.ebms.cpa_build import local_cpa
from pytest_dso.ebms.envelope import EbmsMessage, EnvelopeError, PartyId, parse_envelope
from pytest_dso.ebms.msh import Msh, MshResult, Outbound
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import HttpsServer, PeerCertificate, Request, Response


@dataclass(frozen=True)
class ReceivedRecord:
    """One inbound request as it arrived (raw bytes kept) and what the MSH answered."""

    seq: int
    received_at: float
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    client_address: tuple[str, int]
    peer: PeerCertificate | None
    message: EbmsMessage | None
    result: MshResult | None

    @property
    def content_type(self) -> str:
        """The request's Content-Type."""
        return next((v for k, v in self.headers if k == "content-type"), "")

    @property
    def action(self) -> str | None:
        """The ebMS Action, when the message could be read."""
        return self.message.header.action if self.message else None

    @property
    def ref_to_message_id(self) -> str | None:
        """The RefToMessageId, when present."""
        return self.message.header.ref_to_message_id if self.message else None


Predicate = Callable[[ReceivedRecord], bool]


def _parse_leniently(content_type: str, body: bytes) -> EbmsMessage | None:
    try:
        envelope, attachments = mime.unpack(content_type, body)
        return parse_envelope(envelope, tuple(attachments.values()))
    except EnvelopeError as exc:
        if exc.header is not None:
            return EbmsMessage(exc.header)
        return None


class EbmsReceiver:
    """An ebMS endpoint at ``path`` on an mTLS server, answering through ``msh``.

    ``identity``/``trust`` give the server's TLS context (clients must present a certificate
    under ``trust``) and the client used for asynchronous replies. ``handler`` may replace
    the MSH answer entirely (misbehaving peers in tests): it receives the request and the
    MSH's result and returns the HTTP response plus outbound messages to send.

    ``bind_identity`` (default on) makes the MSH check that every message's TLS client
    certificate is the From party's (its certificate in the CPA, or its OIN): a certificate
    of another party gets a SOAP Fault, so no Pong, Acknowledgment or delivery is taken.
    """

    def __init__(
        self,
        identity: Identity,
        trust: Sequence[x509.Certificate],
        msh: Msh | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/ebms",
        reply_client: HttpClient | None = None,
        max_records: int = 10_000,
        workers: int = 8,
        label: str = "ebms-receiver",
        bind_identity: bool = True,
    ) -> None:
        self.identity = identity
        self.trust = tuple(trust)
        self.msh = msh if msh is not None else Msh()
        if bind_identity:
            self.msh.verify_client_certificate = True
        self.path = path
        self.label = label
        self.server = HttpsServer(
            identity.server_context(self.trust), host=host, port=port, name=label
        )
        self.server.route("POST", path, self._handle)
        self._reply_client = reply_client
        self._own_client = reply_client is None
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._cond = threading.Condition()
        self._records: list[ReceivedRecord] = []
        self._max_records = max_records
        self._seq = 0
        self._sent: list[SendResult] = []
        self.handler: Callable[[Request, MshResult], tuple[Response, Iterable[Outbound]]] | None = (
            None
        )

    def __repr__(self) -> str:
        where = self.url if self.server.running else "stopped"
        return f"EbmsReceiver({self.label}, {where})"

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> EbmsReceiver:
        """Start serving."""
        if self._reply_client is None:
            self._reply_client = HttpClient.for_identity(self.identity, self.trust)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix=f"{self.label}-out")
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and finish (bounded) pending asynchronous replies."""
        self.server.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if self._own_client and self._reply_client is not None:
            self._reply_client.close()
            self._reply_client = None

    def __enter__(self) -> EbmsReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint URL (what the CPA's Endpoint/@uri must say)."""
        return self.server.url + self.path

    # -- CPAs and expectations --------------------------------------------------------------
    def add_cpa(self, cpa: Cpa) -> None:
        """Accept messages under ``cpa``."""
        self.msh.add_cpa(cpa)

    def expect(self, message_id: str, to: Iterable[PartyId] | None = None) -> None:
        """Register a MessageId this side sent, so replies referring to it are accepted
        (only from the party ``to``, when given)."""
        self.msh.expect(message_id, tuple(to) if to is not None else None)

    # -- records ----------------------------------------------------------------------------
    def records(self) -> tuple[ReceivedRecord, ...]:
        """Everything received so far, oldest first."""
        with self._cond:
            return tuple(self._records)

    def clear(self) -> None:
        """Forget the records."""
        with self._cond:
            self._records.clear()

    def wait_for(self, predicate: Predicate, timeout: float) -> ReceivedRecord | None:
        """The first record (old or new) matching ``predicate``, waiting at most ``timeout``
        seconds; ``None`` when none arrived in time."""
        deadline = time.monotonic() + max(0.0, timeout)
        checked = 0
        with self._cond:
            while True:
                for record in self._records[checked:]:
                    if predicate(record):
                        return record
                checked = len(self._records)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
                checked = min(checked, len(self._records))

    def sent_replies(self) -> tuple[SendResult, ...]:
        """The asynchronous replies this endpoint POSTed (with their exchanges)."""
        with self._cond:
            return tuple(self._sent)

    # -- serving ----------------------------------------------------------------------------
    def _handle(self, request: Request) -> Response:
        peer_cert = request.peer.certificate if request.peer else None
        connection = tuple((name, value) for name, value in (
            ("TLS-protocol", request.tls_version), ("TLS-cipher", request.cipher)) if value)
        result = self.msh.handle(request.content_type, request.headers, request.body, peer_cert,
                                 connection=connection)
        outbound: Iterable[Outbound] = result.outbound
        response = Response(result.status, result.body, result.content_type)
        if self.handler is not None:
            response, outbound = self.handler(request, result)
        message = result.message or _parse_leniently(request.content_type, request.body)
        self._record(request, message, result)
        for item in outbound:
            self._send_later(item)
        return response

    def _record(self, request: Request, message: EbmsMessage | None, result: MshResult) -> None:
        with self._cond:
            self._seq += 1
            record = ReceivedRecord(
                seq=self._seq,
                received_at=time.time(),
                method=request.method,
                path=request.path,
                headers=tuple(request.headers.items()),
                body=request.body,
                client_address=request.client_address,
                peer=request.peer,
                message=message,
                result=result,
            )
            self._records.append(record)
            if len(self._records) > self._max_records:
                del self._records[: len(self._records) - self._max_records]
            self._cond.notify_all()

    def _send_later(self, item: Outbound) -> None:
        pool = self._pool
        if pool is None:
            return
        future: Future[None] = pool.submit(self._send, item)
        del future

    def _send(self, item: Outbound) -> None:
        client = self._reply_client
        if client is None:
            return
        self.msh.expect(item.message.header.message_id, item.message.header.to_parties)
        result = EbmsClient(client).post_raw(
            item.url, item.content_type, item.body, message=item.message
        )
        with self._cond:
            self._sent.append(result)
            if len(self._sent) > self._max_records:
                del self._sent[: len(self._sent) - self._max_records]
            self._cond.notify_all()


@dataclass(frozen=True)
class MshPeer:
    """The MSH under test in local mode (the simulator, or a local :class:`Msh` before it).

    ``install_cpa(xml)`` makes the peer accept a CPA; ``local_cpa(dka_endpoint, identity)``
    builds the CPA between the peer and a DKA endpoint presenting ``identity``.
    """

    url: str
    oin: str
    install_cpa: Callable[[bytes], Cpa] = field(repr=False)
    local_cpa: Callable[[str, Identity], bytes] = field(repr=False)
    label: str = "msh-peer"


def local_msh_peer(receiver: EbmsReceiver, pki: TestPki, slug: str = "dso-lv") -> MshPeer:
    """An :class:`MshPeer` over ``receiver`` (a running local MSH with ``slug``'s identity)."""

    def install(xml: bytes) -> Cpa:
        cpa = parse_cpa(xml)
        receiver.add_cpa(cpa)
        return cpa

    def make(dka_endpoint: str, identity: Identity) -> bytes:
        return local_cpa(pki, receiver.url, dka_endpoint, dso_slug=slug)

    return MshPeer(receiver.url, pki.party(slug).oin, install, make, receiver.label)
