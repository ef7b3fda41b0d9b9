"""Every exchange as evidence: what the engine recorded (ebMS HTTP exchanges, inbound
messages, REST calls, CPA and certificate facts) turned into report steps, framework-free.

An :class:`ExchangeRecord` is a titled step with readable parameters (MessageId,
RefToMessageId, ConversationId, CPAId, From/To, timestamps, HTTP status, duration, TLS
protocol and cipher, the peer certificate's subject, issuer, serial, SHA-256 and validity),
its attachments (the request and response envelopes, the HTTP exchange, the TLS facts) and
sub-steps. The pytest layer writes them to Allure with
:meth:`pytest_dso.evidence.allure.Evidence.record`, redacting every text; nothing here holds a
private key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_dso.evidence.httpexchange import HTTP_EXCHANGE_EXTENSION, HTTP_EXCHANGE_MIME

if TYPE_CHECKING:
    from cryptography import x509

    from pytest_dso.dso.rest import Exchange as RestExchange
    from pytest_dso.ebms.conformance import CaseRun
    from pytest_dso.ebms.cpa import Cpa
    from pytest_dso.ebms.envelope import EbmsMessage
    from pytest_dso.ebms.pingpong import PingResult
    from pytest_dso.ebms.receiver import ReceivedRecord
    from pytest_dso.network.tlsprobe import TlsProbe
    from pytest_dso.transport.client import HttpExchange
    from pytest_dso.triggers.base import Trigger


@dataclass(frozen=True)
class Attachment:
    """One attachment of a step."""

    name: str
    body: bytes | str
    mime: str = "text/plain"
    extension: str = "txt"


@dataclass(frozen=True)
class ExchangeRecord:
    """One exchange as a report step."""

    title: str
    parameters: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    children: tuple[ExchangeRecord, ...] = ()

    def parameter(self, name: str) -> str | None:
        """The value of parameter ``name``."""
        return next((v for k, v in self.parameters if k == name), None)


def _iso(value: dt.datetime | float | None) -> str:
    if value is None:
        return "-"
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(value, dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def certificate_facts(cert: x509.Certificate | None) -> dict[str, str]:
    """Subject, issuer, serial, SHA-256 fingerprint and validity of a certificate."""
    if cert is None:
        return {}
    from pytest_dso.pkio.identity import fingerprint_sha256

    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "sha256": fingerprint_sha256(cert),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def tls_facts(exchange: HttpExchange | RestExchange) -> dict[str, str]:
    """The TLS facts of the connection an exchange (ebMS or REST) used (empty for plain
    HTTP)."""
    if not exchange.tls_version and not exchange.peer_certificate_der:
        return {}
    facts = {"protocol": exchange.tls_version or "-", "cipher": exchange.cipher or "-"}
    der = exchange.peer_certificate_der
    return {**facts, **(_peer_facts(der) if der else {})}


@functools.lru_cache(maxsize=64)
def _peer_facts(der: bytes) -> dict[str, str]:
    """``certificate_facts`` of a DER certificate as ``peer …`` keys (a run sees few server
    certificates, on many exchanges). Callers copy the result."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {f"peer {k}": v for k, v in certificate_facts(cert).items()}


def ebms_parameters(message: EbmsMessage | None, prefix: str = "") -> list[tuple[str, str]]:
    """The ebMS header as ``(name, value)`` parameters."""
    if message is None:
        return []
    h = message.header
    pairs = [
        ("MessageId", h.message_id),
        ("RefToMessageId", h.ref_to_message_id or "-"),
        ("ConversationId", h.conversation_id),
        ("CPAId", h.cpa_id),
        ("From", ", ".join(str(p) for p in h.from_parties)),
        ("To", ", ".join(str(p) for p in h.to_parties)),
        ("Service/Action", f"{h.service} / {h.action}"),
        ("Timestamp", _iso(h.timestamp)),
    ]
    return [(f"{prefix}{k}", v) for k, v in pairs]


def _body_attachment(name: str, body: bytes, content_type: str) -> Attachment | None:
    if not body:
        return None
    xml = body.lstrip()[:1] == b"<"
    return Attachment(name, body, "application/xml" if xml else "text/plain",
                      "xml" if xml else "txt")


def _http_attachment(name: str, exchange: Any) -> Attachment:
    """The HTTP exchange document, unredacted here (the writer redacts it)."""
    from pytest_dso.evidence.httpexchange import as_exchange, exchange_document
    from pytest_dso.evidence.redaction import patterns_only

    document = exchange_document(as_exchange(exchange), patterns_only())
    # compact: Allure's viewer parses it, and the C encoder is many times faster than an
    # indented dump of a body of tens of kilobytes
    return Attachment(name, json.dumps(document, ensure_ascii=False),
                      HTTP_EXCHANGE_MIME, HTTP_EXCHANGE_EXTENSION)


def http_record(title: str, exchange: HttpExchange, sent: EbmsMessage | None = None,
                reply: EbmsMessage | None = None) -> ExchangeRecord:
    """One outbound ebMS POST: the message sent, the HTTP answer (and a synchronous reply),
    timings and the TLS facts of the connection."""
    status = str(exchange.status) if exchange.status is not None else "geen antwoord"
    params = [
        *ebms_parameters(sent),
        ("URL", exchange.url.split("?", 1)[0]),
        ("HTTP status", status),
        ("verzonden", _iso(exchange.started)),
        ("antwoord", _iso(exchange.stopped)),
        ("duur (ms)", f"{exchange.duration * 1000:.1f}"),
    ]
    if exchange.failure is not None:
        params.append(("fout", exchange.failure.message))
    tls = tls_facts(exchange)
    params += [(f"TLS {k}", v) for k, v in tls.items()]
    params += ebms_parameters(reply, prefix="antwoord ")
    attachments = [a for a in (
        _body_attachment("verzonden envelop", exchange.request_body,
                         _header(exchange.request_headers, "content-type")),
        _body_attachment("ontvangen antwoord", exchange.response_body, exchange.content_type),
    ) if a is not None]
    attachments.append(_http_attachment("HTTP-uitwisseling", exchange))
    if tls:
        attachments.append(Attachment("TLS", json.dumps(tls, indent=2), "application/json",
                                      "json"))
    return ExchangeRecord(f"{title} → HTTP {status}", tuple(params), tuple(attachments))


def _header(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def inbound_record(title: str, record: ReceivedRecord) -> ExchangeRecord:
    """One inbound ebMS POST at the harness's receiver (an async Pong, Acknowledgment,
    MessageError or verzoeknotificatie): who sent it, the envelope and what we answered."""
    answered = record.result.status if record.result is not None else None
    params = [
        *ebms_parameters(record.message),
        ("ontvangen", _iso(record.received_at)),
        ("van adres", f"{record.client_address[0]}:{record.client_address[1]}"),
        ("ons HTTP-antwoord", str(answered) if answered is not None else "-"),
    ]
    if record.peer is not None:
        params += [(f"client-certificaat {k}", v)
                   for k, v in certificate_facts(record.peer.certificate).items()]
    attachments = [a for a in (
        _body_attachment("ontvangen envelop", record.body, record.content_type),
    ) if a is not None]
    action = record.action or "onleesbaar bericht"
    return ExchangeRecord(f"{title}: {action} ontvangen", tuple(params), tuple(attachments))


def ping_records(result: PingResult) -> list[ExchangeRecord]:
    """The Ping/Pong as steps: the Ping (POST, HTTP answer, sync Pong), then the async Pong or
    MessageError as it arrived; a summary step first."""
    summary = [
        ("modus", result.mode or "-"),
        ("CPAId", result.cpa_id),
        ("URL", result.url),
        ("rondreis (ms)", f"{result.round_trip * 1000:.1f}" if result.round_trip else "-"),
        ("uitkomst", "Pong ontvangen" if result.ok else "geen geldige Pong"),
    ]
    children: list[ExchangeRecord] = []
    for exchange in result.exchanges:
        reply = result.send.reply if result.send is not None else None
        children.append(http_record("Ping", exchange, result.ping, reply))
    if result.pong_record is not None:
        children.append(inbound_record("Async antwoord", result.pong_record))
    findings = [str(f) for f in result.findings]
    attachments = (Attachment("bevindingen", "\n".join(findings)),) if findings else ()
    return [ExchangeRecord(f"ebMS Ping/Pong ({result.mode or '-'}) met {result.label}",
                           tuple(summary), attachments, tuple(children))]


def conformance_records(run: CaseRun) -> list[ExchangeRecord]:
    """A negative conformance case as steps: a summary (row, what was spoiled, what a
    conforming MSH answers, what it answered, the verdict), then each POST with its envelope,
    the HTTP answer (Acknowledgment, MessageError, SOAP Fault) and the TLS facts, and an
    asynchronous reply as it reached our receiver."""
    item = run.case
    verdict = "conform" if not run.findings else "; ".join(f.message for f in run.findings)
    summary = [
        ("rij", str(item.row)),
        ("geval", item.case_id),
        ("URL", run.url.split("?", 1)[0]),
        ("verwacht", str(item.expect)),
        ("ontvangen", run.answer),
        ("uitkomst", verdict),
    ]
    children: list[ExchangeRecord] = []
    total = len(run.exchanges)
    for number, exchange in enumerate(run.exchanges, start=1):
        label = f"Verzoek {number}/{total}" if total > 1 else "Verzoek"
        children.append(http_record(label, exchange.sent.exchange, exchange.prepared.message,
                                    exchange.sent.reply))
        if exchange.inbound is not None:
            children.append(inbound_record(f"{label}, async antwoord", exchange.inbound))
    return [ExchangeRecord(f"ebMS-conformiteit rij {item.row}: {item.description}",
                           tuple(summary), (), tuple(children))]


def rest_record(exchange: RestExchange) -> ExchangeRecord:
    """One REST call of the DSO-LV APIs: request line, status, duration, body size and hash."""
    from pytest_dso.evidence.httpexchange import RecordedExchange

    path = urlsplit(exchange.url).path or "/"
    status = str(exchange.status) if exchange.status is not None else "geen antwoord"
    body = exchange.response_body or b""
    params = [
        ("API", f"{exchange.api} {exchange.operation}".strip() or "-"),
        ("request", f"{exchange.method} {path}"),
        ("HTTP status", status),
        ("verzonden", _iso(exchange.started_at)),
        ("duur (ms)", f"{exchange.elapsed_ms:.1f}"),
        ("antwoord grootte", str(exchange.response_size or len(body))),
        ("antwoord sha256", hashlib.sha256(body).hexdigest() if body else "-"),
    ]
    if exchange.error_message:
        params.append(("fout", f"{exchange.error_name}: {exchange.error_message}"))
    tls = tls_facts(exchange)
    params += [(f"TLS {k}", v) for k, v in tls.items()]
    recorded = RecordedExchange(
        method=exchange.method, url=exchange.url, request_headers=exchange.request_headers,
        request_body=exchange.request_body, status=exchange.status, status_text=exchange.reason,
        response_headers=exchange.response_headers, response_body=body,
        start=exchange.started_at.timestamp(), stop=exchange.stopped_at.timestamp(),
        error=exchange.error_message or None, error_name=exchange.error_name,
    )
    attachments = [_http_attachment(f"{exchange.method} {path}", recorded)]
    if tls:
        attachments.append(Attachment("TLS", json.dumps(tls, indent=2), "application/json",
                                      "json"))
    return ExchangeRecord(f"{exchange.method} {path} → {status}", tuple(params),
                          tuple(attachments))


def trigger_record(trigger: Trigger) -> ExchangeRecord:
    """A verzoeknotificatie as the trigger source saw it."""
    params = [
        ("verzoeknummer", trigger.verzoeknummer or "-"),
        ("ontvangen", _iso(trigger.received_at)),
        ("bron", trigger.source),
        ("MessageId", trigger.message_id or "-"),
        ("afzender OIN", trigger.sender_oin or "-"),
        ("ontvanger OIN", trigger.recipient_oin or "-"),
        ("sha256", trigger.sha256),
        *trigger.details,
    ]
    if trigger.peer_certificate_der:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(trigger.peer_certificate_der)
        params += [(f"client-certificaat {k}", v) for k, v in certificate_facts(cert).items()]
    attachments = [a for a in (_body_attachment("verzoeknotificatie", trigger.raw, ""),
                               _body_attachment("ontvangen envelop", trigger.envelope, ""))
                   if a is not None]
    return ExchangeRecord(f"Triggerbericht {trigger.verzoeknummer or '(onleesbaar)'} ontvangen",
                          tuple(params), tuple(attachments))


def cpa_summary(cpa: Cpa) -> dict[str, Any]:
    """The key facts of a CPA: id, status, validity, parties with ids, roles and endpoints."""
    return {
        "cpa_id": cpa.cpa_id,
        "status": cpa.status,
        "start": cpa.start.isoformat(),
        "end": cpa.end.isoformat(),
        "parties": [
            {
                "name": p.name,
                "party_ids": list(p.ids),
                "roles": list(p.roles),
                "endpoints": sorted({e for t in p.transports.values() for e in t.endpoints}),
            }
            for p in cpa.parties
        ],
    }


def tls_probe_summary(probe: TlsProbe) -> dict[str, Any]:
    """What the TLS probe of one endpoint tried and saw: TCP, each protocol version, the
    suites offered and accepted per version with their (EC)DHE groups, the groups, whether a
    client certificate is required, the chain the server sent and the verified handshake; and
    under ``niet onderzocht`` what could not be probed, and why. Certificates appear by
    subject and SHA-256 only."""
    from pytest_dso.network.tlsprobe import ClientAuthOutcome, VersionOutcome
    from pytest_dso.pkio.identity import fingerprint_sha256

    not_probed: list[str] = []
    summary: dict[str, Any] = {
        "endpoint": str(probe.endpoint),
        "server_name": probe.server_hostname or probe.endpoint.host,
        "tcp": f"{probe.tcp.outcome} ({probe.tcp.seconds * 1000:.0f} ms)"
        + (f": {probe.tcp.detail}" if probe.tcp.detail else ""),
        "client_identity": probe.client_identity or "-",
    }
    if not probe.tcp.ok:
        not_probed.append(f"alles: geen TCP-verbinding ({probe.tcp.outcome})")
    protocols: dict[str, Any] = {}
    for version in probe.versions:
        entry: dict[str, Any] = {"outcome": str(version.outcome)}
        if version.cipher:
            entry["cipher"] = version.cipher
        if version.detail:
            entry["detail"] = version.detail
        protocols[version.protocol.label] = entry
        if version.outcome in (VersionOutcome.NOT_PROBED, VersionOutcome.FAILED):
            not_probed.append(f"{version.protocol.label}: {version.detail or version.outcome}")
    summary["protocols"] = protocols
    if probe.weak_offer is not None:
        summary["weak_offer"] = {"outcome": str(probe.weak_offer.outcome),
                                 "cipher": probe.weak_offer.cipher or "-",
                                 "detail": probe.weak_offer.detail}
    scan = probe.suites
    suites: dict[str, Any] = {"scanner": scan.scanner}
    if scan.error:
        suites["error"] = scan.error
        not_probed.append(f"cipher suites: {scan.error}")
    for item in scan.versions:
        entry = {
            "offered": len(item.tested),
            "accepted": [s.iana + (f" ({s.key_exchange.label})" if s.key_exchange else "")
                         for s in item.accepted],
        }
        if item.error:
            entry["error"] = item.error
            not_probed.append(f"cipher suites {item.label}: {item.error}")
        suites[item.label] = entry
    summary["cipher_suites"] = suites
    summary["groups"] = list(scan.curves)
    auth = probe.client_auth
    if auth is None or auth.outcome is ClientAuthOutcome.NOT_PROBED:
        reason = (auth.detail or auth.reason) if auth is not None else "not run"
        not_probed.append(f"client certificate required: {reason or 'not probed'}")
    if auth is not None:
        summary["client_certificate_required"] = {
            "outcome": str(auth.outcome), "version": auth.version or "-",
            "reason": auth.reason or "-",
            "http_status": auth.http_status if auth.http_status is not None else "-",
            "detail": auth.detail,
        }
    chain = probe.chain
    if chain.certificates is None:
        not_probed.append(f"certificate chain: {chain.note or 'not inspected'}")
        summary["chain"] = {"source": chain.source or "-", "note": chain.note}
    else:
        summary["chain"] = {
            "source": chain.source,
            "certificates": [{"subject": c.subject.rfc4514_string(),
                              "sha256": fingerprint_sha256(c)} for c in chain.certificates],
        }
    shake = probe.verification
    if shake is None:
        not_probed.append("verified mTLS handshake: not run")
    else:
        summary["verified_handshake"] = {
            "ok": shake.ok, "version": shake.version or "-", "cipher": shake.cipher or "-",
            "reason": shake.reason or "-",
        }
    summary["niet onderzocht"] = not_probed
    return summary
