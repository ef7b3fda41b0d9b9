"""The ebMS Ping/Pong check (aansluitproces PRE 2.6), for one CPA or many tenants at once.

Sync or async follows the CPA: the pinger adds ``eb:SyncReply`` only when its own default MSH
channel has a ``syncReplyMode`` other than ``none``; then the Pong comes back as HTTP 200.
Otherwise the peer answers 204 and POSTs the Pong later to the pinger's CPA endpoint, where the
harness's :class:`~pytest_dso.ebms.receiver.EbmsReceiver` waits for it.

Every fault is its own verdict: connection refused and TLS failures by reason (``net.*``,
``tls.*``), ``ebms.ping.http_status``, ``ebms.ping.soap_fault``, ``ebms.ping.message_error``
(code and location), ``ebms.ping.no_pong`` (nothing within the timeout), ``ebms.pong.*`` for a
Pong that does not answer this Ping (CPAId, ConversationId, RefToMessageId, From/To, Action).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import EbmsClient, SendResult, reply_findings
from pytest_dso.ebms.cpa import Cpa, CpaError, PartyInfo
from pytest_dso.ebms.envelope import EbmsMessage, utc_now
from pytest_dso.ebms.envelope import ping as build_ping
from pytest_dso.ebms.receiver import EbmsReceiver, ReceivedRecord
from pytest_dso.findings import Finding, Severity, error, warning
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.client import HttpClient, HttpExchange

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class PingTarget:
    """One Ping to do: the CPA, which party we are, and the identity to use for mTLS.

    ``endpoint`` overrides the CPA's endpoint of the other party (``[ebms] endpoint``).
    """

    cpa: Cpa
    own_party: str
    identity: Identity = field(repr=False)
    trust: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    endpoint: str | None = None
    label: str = ""


@dataclass(frozen=True)
class PingResult:
    """The outcome of one Ping: what was sent and received, timings and the verdicts."""

    label: str
    cpa_id: str
    url: str
    mode: str
    ping: EbmsMessage | None
    pong: EbmsMessage | None
    exchanges: tuple[HttpExchange, ...]
    round_trip: float | None
    findings: tuple[Finding, ...]
    send: SendResult | None = field(default=None, repr=False)
    pong_record: ReceivedRecord | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when a matching Pong arrived and no finding is an error."""
        return self.pong is not None and not any(
            f.severity >= Severity.ERROR for f in self.findings
        )


def check_pong(ping: EbmsMessage, pong: EbmsMessage) -> list[Finding]:
    """Verdicts on whether ``pong`` properly answers ``ping``."""
    p, q = ping.header, pong.header
    findings: list[Finding] = []
    where = f"Pong {q.message_id}"
    if q.service != c.MSH_SERVICE or q.action != c.ACTION_PONG:
        findings.append(
            error(
                "ebms.pong.action",
                f"the reply to the Ping has Service {q.service!r} / Action {q.action!r}, not "
                f"{c.MSH_SERVICE} / Pong",
                "the MSH must answer a Ping with Action Pong of the MSH service",
                where,
            )
        )
    if q.cpa_id != p.cpa_id:
        findings.append(
            error(
                "ebms.pong.cpa_id",
                f"the Pong has CPAId {q.cpa_id!r}, the Ping {p.cpa_id!r}",
                "the Pong must carry the CPAId of the Ping",
                where,
            )
        )
    if q.conversation_id != p.conversation_id:
        findings.append(
            error(
                "ebms.pong.conversation_id",
                f"the Pong has ConversationId {q.conversation_id!r}, the Ping "
                f"{p.conversation_id!r}",
                "request, response, acks and errors share one ConversationId",
                where,
            )
        )
    if q.ref_to_message_id != p.message_id:
        findings.append(
            error(
                "ebms.pong.ref_to_message_id",
                f"the Pong refers to {q.ref_to_message_id!r}, not to the Ping {p.message_id!r}",
                "RefToMessageId of the Pong must be the Ping's MessageId",
                where,
            )
        )
    if q.from_parties != p.to_parties or q.to_parties != p.from_parties:
        findings.append(
            error(
                "ebms.pong.parties",
                "the Pong does not swap From and To of the Ping: From "
                f"{', '.join(map(str, q.from_parties))} / To {', '.join(map(str, q.to_parties))}",
                "From of the Pong is To of the Ping and vice versa, PartyId types included",
                where,
            )
        )
    if q.message_id == p.message_id:
        findings.append(
            error(
                "ebms.pong.message_id",
                "the Pong reuses the Ping's MessageId",
                "every message needs a new, globally unique MessageId",
                where,
            )
        )
    return findings


def _host_of(url: str | None) -> str:
    return (urlsplit(url).hostname if url else None) or "localhost"


def ping(
    cpa: Cpa,
    own_party: str | PartyInfo,
    identity: Identity,
    trust: Sequence[x509.Certificate] = (),
    receiver: EbmsReceiver | None = None,
    timeout: float = 30.0,
    *,
    endpoint: str | None = None,
    client: HttpClient | None = None,
    clock: Clock = utc_now,
    label: str = "",
) -> PingResult:
    """Ping the other party of ``cpa`` as ``own_party`` and judge the Pong.

    ``receiver`` catches an asynchronous Pong (required when our default MSH channel has
    ``syncReplyMode="none"``). ``client`` reuses kept-alive connections (else a client for
    ``identity`` is made and closed). ``timeout`` bounds the POST and the wait for the Pong.
    """
    name = label or cpa.cpa_id
    try:
        own = cpa.party(own_party)
        peer = cpa.other_party(own)
        url = endpoint or cpa.endpoint_for(peer, c.ACTION_PING)
        mode = "sync" if cpa.msh_channel(own).sync_reply_mode != "none" else "async"
        own_url = cpa.endpoint_for(own, c.ACTION_PONG)
    except CpaError as exc:
        finding = error(
            "ebms.ping.cpa",
            f"cannot ping with CPA {cpa.cpa_id!r}: {exc.message}",
            "check the CPA: both parties, their default MSH channels and endpoints",
            exc.where,
        )
        return PingResult(name, cpa.cpa_id, endpoint or "", "", None, None, (), None, (finding,))
    message = build_ping(
        cpa_id=cpa.cpa_id,
        from_party=own.party_ids[0],
        to_party=peer.party_ids[0],
        host=_host_of(own_url),
        sync_reply=mode == "sync",
        now=clock(),
    )
    base = PingResult(name, cpa.cpa_id, url, mode, message, None, (), None, ())
    if mode == "async" and receiver is None:
        return _with(
            base,
            error(
                "ebms.ping.no_receiver",
                "the CPA says the Pong comes asynchronously (syncReplyMode none), but no receiver "
                "listens for it",
                "run the harness receiver at the CPA endpoint ([ebms] listen) or use a CPA with "
                "syncReplyMode mshSignalsOnly if both sides support it",
                url,
            ),
        )
    if receiver is not None:
        if receiver.msh.cpa(cpa.cpa_id) is None:
            receiver.add_cpa(cpa)
        receiver.expect(message.message_id, message.header.to_parties)
    ebms = EbmsClient(client or HttpClient.for_identity(identity, trust, read_timeout=timeout))
    try:
        wall_start = time.time()
        t0 = time.perf_counter()
        sent = ebms.send(url, message, timeout=timeout)
        sync_time = time.perf_counter() - t0
    finally:
        if client is None:
            ebms.close()
    what = f"the Ping to {peer.name} ({url})"
    findings = reply_findings(sent, what, check="ebms.ping")
    result = PingResult(
        name, cpa.cpa_id, url, mode, message, None, (sent.exchange,), None, (), sent
    )
    if findings:
        return _with(result, *findings)
    reply = sent.reply
    if reply is not None:
        if mode == "async":
            findings.append(
                warning(
                    "ebms.ping.mode_mismatch",
                    f"{what}: the Pong came back synchronously although our default MSH channel "
                    "has syncReplyMode none",
                    "the peer should answer 204 and send the Pong to our CPA endpoint; check "
                    "which CPA it uses",
                    url,
                )
            )
        if reply.header.action != c.ACTION_PONG:
            findings.append(
                error(
                    "ebms.ping.unexpected_reply",
                    f"{what}: the synchronous reply is {reply.header.action!r}, not a Pong",
                    "the MSH must answer a Ping with a Pong",
                    url,
                )
            )
            return _with(result, *findings)
        findings += check_pong(message, reply)
        return _with(
            PingResult(
                name,
                cpa.cpa_id,
                url,
                mode,
                message,
                reply,
                (sent.exchange,),
                sync_time,
                (),
                sent,
            ),
            *findings,
        )
    if mode == "sync":
        return _with(
            result,
            error(
                "ebms.ping.no_pong",
                f"{what}: HTTP {sent.status} without a Pong, although the CPA asks for a "
                "synchronous reply (SyncReply sent)",
                "with syncReplyMode mshSignalsOnly the peer must answer 200 text/xml with the Pong",
                url,
                status=str(sent.status),
            ),
        )
    assert receiver is not None
    if sent.status not in (200, 202, 204):
        findings.append(
            warning(
                "ebms.ping.http_status",
                f"{what}: HTTP {sent.status} for an asynchronous Ping; 204 is expected",
                "an MSH acknowledges an asynchronous message with 204 No Content",
                url,
            )
        )
    remaining = max(0.0, timeout - sync_time)
    record = receiver.wait_for(_answers(message), remaining)
    if record is None or record.message is None:
        return _with(result, *findings, _no_pong(message, receiver, wall_start, what, url, timeout))
    answer = record.message
    pong_result = PingResult(
        name,
        cpa.cpa_id,
        url,
        mode,
        message,
        answer if answer.header.action == c.ACTION_PONG else None,
        (sent.exchange,),
        record.received_at - wall_start,
        (),
        sent,
        record,
    )
    if answer.header.action == c.ACTION_MESSAGE_ERROR and answer.error_list is not None:
        for item in answer.error_list.errors:
            findings.append(
                error(
                    "ebms.ping.message_error",
                    f"{what}: the peer answered asynchronously with a MessageError {item.code} at "
                    f"{item.location or '(no location)'}: {item.description or ''}".rstrip(": "),
                    "compare the Ping header with the CPA at the named location",
                    url,
                    error_code=item.code,
                    location=item.location or "",
                )
            )
        return _with(pong_result, *findings)
    findings += check_pong(message, answer)
    return _with(pong_result, *findings)


def _answers(message: EbmsMessage) -> Callable[[ReceivedRecord], bool]:
    header = message.header

    def match(record: ReceivedRecord) -> bool:
        got = record.message
        if got is None or got.header.action not in (c.ACTION_PONG, c.ACTION_MESSAGE_ERROR):
            return False
        return got.header.ref_to_message_id == header.message_id or (
            got.header.conversation_id == header.conversation_id
            and got.header.message_id != header.message_id
        )

    return match


def _no_pong(
    message: EbmsMessage,
    receiver: EbmsReceiver,
    since: float,
    what: str,
    url: str,
    timeout: float,
) -> Finding:
    strays = [
        r
        for r in receiver.records()
        if r.received_at >= since
        and r.message is not None
        and r.message.header.action == c.ACTION_PONG
        and r.message.header.cpa_id == message.header.cpa_id
    ]
    if strays:
        other = strays[0].message
        assert other is not None
        return error(
            "ebms.pong.ref_to_message_id",
            f"{what}: a Pong arrived, but for another message (RefToMessageId "
            f"{other.header.ref_to_message_id!r}, ConversationId "
            f"{other.header.conversation_id!r}), not for Ping {message.message_id!r}",
            "the Pong must carry the Ping's ConversationId and its MessageId as RefToMessageId",
            url,
        )
    return error(
        "ebms.ping.no_pong",
        f"{what}: no Pong arrived at {receiver.url} within {timeout:g} s",
        "the peer answered 204 but sent no Pong to our CPA endpoint: check the endpoint in the "
        "CPA, that it is reachable from the peer (firewall, whitelisted egress IPs, TLS) and "
        "the peer's logs",
        url,
    )


def _with(result: PingResult, *findings: Finding) -> PingResult:
    return PingResult(
        result.label,
        result.cpa_id,
        result.url,
        result.mode,
        result.ping,
        result.pong,
        result.exchanges,
        result.round_trip,
        (*result.findings, *findings),
        result.send,
        result.pong_record,
    )


def ping_target(
    target: PingTarget,
    receiver: EbmsReceiver | None = None,
    timeout: float = 30.0,
    *,
    client: HttpClient | None = None,
) -> PingResult:
    """One Ping to ``target``; an async Pong is awaited at ``receiver``."""
    return ping(
        target.cpa,
        target.own_party,
        target.identity,
        target.trust,
        receiver,
        timeout,
        endpoint=target.endpoint,
        client=client,
        label=target.label,
    )


def ping_many(
    targets: Iterable[PingTarget],
    concurrency: int = 16,
    *,
    receiver: EbmsReceiver | None = None,
    timeout: float = 30.0,
    clients: dict[str, HttpClient] | None = None,
) -> list[PingResult]:
    """Ping every distinct (CPA, own party) of ``targets`` once, ``concurrency`` at a time.

    One pooled :class:`HttpClient` per identity is shared by all its Pings (pass ``clients``,
    keyed by certificate fingerprint, to keep them beyond this call). Results come in the order
    of the first occurrence of each target.
    """
    unique: dict[tuple[str, str], PingTarget] = {}
    for target in targets:
        unique.setdefault((target.cpa.cpa_id, target.own_party), target)
    own_clients = clients is None
    pool_clients: dict[str, HttpClient] = {} if clients is None else clients
    lock = threading.Lock()

    def client_for(target: PingTarget) -> HttpClient:
        key = target.identity.fingerprint_sha256
        with lock:
            found = pool_clients.get(key)
            if found is None:
                found = HttpClient.for_identity(
                    target.identity,
                    target.trust,
                    read_timeout=timeout,
                    max_idle_per_host=max(1, concurrency),
                )
                pool_clients[key] = found
            return found

    def run(target: PingTarget) -> PingResult:
        return ping_target(target, receiver, timeout, client=client_for(target))

    try:
        with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="dso-ping") as pool:
            return list(pool.map(run, unique.values()))
    finally:
        if own_clients:
            for item in pool_clients.values():
                item.close()
