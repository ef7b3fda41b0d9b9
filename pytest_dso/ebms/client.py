"""Sending ebMS messages over mutual TLS and judging what came back.

:class:`EbmsClient` packs an :class:`~pytest_dso.ebms.envelope.EbmsMessage` (bare ``text/xml``
or ``multipart/related``), POSTs it with ``SOAPAction: "ebXML"`` over a pooled
:class:`~pytest_dso.transport.client.HttpClient`, and parses a synchronous reply.
:func:`reply_findings` turns every way the exchange can go wrong into its own verdict:
connection and TLS failures (``tls.*``/``net.*``), HTTP 4xx/5xx, a SOAP Fault and an ebMS
MessageError (code and location).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from pytest_dso.ebms import constants as c
from pytest_dso.ebms import mime
from pytest_dso.ebms.envelope import EbmsMessage, EnvelopeError, parse_envelope
from pytest_dso.findings import Finding, error
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.client import HttpClient, HttpExchange
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml


@dataclass(frozen=True)
class SoapFault:
    """A SOAP 1.1 Fault: ``faultcode`` and ``faultstring``."""

    code: str
    text: str


@dataclass(frozen=True)
class SendResult:
    """One ebMS POST: what was sent, the HTTP exchange, and the parsed synchronous reply."""

    message: EbmsMessage | None
    exchange: HttpExchange
    reply: EbmsMessage | None = None
    fault: SoapFault | None = None
    reply_problem: str | None = None
    content_type: str = field(default=c.TEXT_XML)

    @property
    def status(self) -> int | None:
        """The HTTP status (``None`` when no response arrived)."""
        return self.exchange.status


def parse_soap_fault(body: bytes) -> SoapFault | None:
    """The SOAP Fault in ``body``, if it holds one."""
    try:
        root = parse_xml(body, what="SOAP response")
    except UnsafeXmlError:
        return None
    fault = root.find(f"{{{c.SOAP_NS}}}Body/{{{c.SOAP_NS}}}Fault")
    if fault is None:
        return None
    code = fault.findtext("faultcode") or ""
    text = fault.findtext("faultstring") or ""
    return SoapFault(code.strip(), text.strip())


def parse_reply(exchange: HttpExchange) -> tuple[EbmsMessage | None, SoapFault | None, str | None]:
    """``(reply, fault, problem)`` for a response: the ebMS reply in a 200 body, the SOAP Fault
    in a 500 body, or why the body could not be read."""
    body = exchange.response_body
    if exchange.status is None or not body.strip():
        return None, None, None
    if exchange.status >= 400 or b"Fault" in body:
        fault = parse_soap_fault(body)
        if fault is not None:
            return None, fault, None
    content_type = exchange.content_type or c.TEXT_XML
    try:
        if content_type.split(";", 1)[0].strip().lower() == "text/xml":
            return parse_envelope(body), None, None  # the common case: a bare envelope
        envelope, attachments = mime.unpack(content_type, body)
        return parse_envelope(envelope, tuple(attachments.values())), None, None
    except EnvelopeError as exc:
        return None, None, str(exc)


class EbmsClient:
    """POSTs ebMS messages over one :class:`HttpClient` (one identity, pooled connections)."""

    def __init__(self, http: HttpClient, *, soap_action: str = c.SOAP_ACTION) -> None:
        self.http = http
        self.soap_action = soap_action

    @classmethod
    def for_identity(
        cls,
        identity: Identity,
        trust: Sequence[x509.Certificate] | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
    ) -> EbmsClient:
        """A client presenting ``identity`` and trusting ``trust``."""
        return cls(
            HttpClient.for_identity(
                identity, trust, connect_timeout=connect_timeout, read_timeout=read_timeout
            )
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.http.close()

    def send(self, url: str, message: EbmsMessage, *, timeout: float | None = None) -> SendResult:
        """Pack and POST ``message`` to ``url``; parse a synchronous reply."""
        content_type, body = mime.pack(message)
        return self.post_raw(url, content_type, body, message=message, timeout=timeout)

    def post_raw(
        self,
        url: str,
        content_type: str,
        body: bytes,
        *,
        message: EbmsMessage | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SendResult:
        """POST ``body`` as is; ``headers`` replace the default SOAPAction/Content-Type (a
        header set to ``""`` is left out), for deliberately broken requests."""
        sent: dict[str, str] = {"Content-Type": content_type, "SOAPAction": self.soap_action}
        for name, value in (headers or {}).items():
            for key in [k for k in sent if k.lower() == name.lower()]:
                del sent[key]
            sent[name] = value
        sent = {k: v for k, v in sent.items() if v != ""}
        exchange = self.http.post(url, body, headers=sent, timeout=timeout)
        reply, fault, problem = parse_reply(exchange)
        return SendResult(message, exchange, reply, fault, problem, content_type)


def reply_findings(result: SendResult, what: str, *, check: str = "ebms.send") -> list[Finding]:
    """Verdicts for a POST: connection/TLS failure, HTTP error status, SOAP Fault, MessageError,
    unreadable reply. Empty when the exchange itself went well (the caller judges the reply)."""
    exchange = result.exchange
    where = exchange.url
    if exchange.failure is not None:
        return [exchange.failure]
    findings: list[Finding] = []
    if result.fault is not None:
        findings.append(
            error(
                f"{check}.soap_fault",
                f"{what}: the peer answered HTTP {exchange.status} with a SOAP Fault "
                f"{result.fault.code}: {result.fault.text!r}",
                _fault_hint(result.fault.text),
                where,
                faultcode=result.fault.code,
                faultstring=result.fault.text,
                status=str(exchange.status),
            )
        )
    elif exchange.status is not None and exchange.status >= 400:
        findings.append(
            error(
                f"{check}.http_status",
                f"{what}: the peer answered HTTP {exchange.status} {exchange.reason}",
                "4xx means the request was refused (path, method, size, authorisation); 5xx a "
                "fault at the peer (503 is retried by ebMS senders). The evidence holds the "
                "response body",
                where,
                status=str(exchange.status),
                body=exchange.response_body[:500].decode("utf-8", "replace"),
            )
        )
    if result.reply is not None and result.reply.error_list is not None:
        for item in result.reply.error_list.errors:
            findings.append(
                error(
                    f"{check}.message_error",
                    f"{what}: the peer answered with an ebMS MessageError {item.code} at "
                    f"{item.location or '(no location)'}: {item.description or ''}".rstrip(": "),
                    "compare the message header with the CPA at the named location "
                    "(PartyIds, Service/Action, CPAId, AckRequested, DuplicateElimination, "
                    "SyncReply)",
                    where,
                    error_code=item.code,
                    location=item.location or "",
                    description=item.description or "",
                )
            )
    if result.reply_problem is not None and exchange.status == 200:
        findings.append(
            error(
                f"{check}.bad_reply",
                f"{what}: the synchronous reply is not a readable ebMS message: "
                f"{result.reply_problem}",
                "the peer must answer 204 (asynchronous) or 200 with an ebMS envelope",
                where,
            )
        )
    return findings


def _fault_hint(text: str) -> str:
    lowered = text.lower()
    if "soapaction" in lowered:
        return 'send the HTTP header SOAPAction: "ebXML" (with the double quotes)'
    if "cpa" in lowered and "not found" in lowered:
        return "the peer does not know this CPAId: check that both sides loaded the same CPA"
    if "certificate" in lowered:
        return "present the TLS client certificate named in the CPA (ClientCertificateRef)"
    return "read the faultstring; the evidence holds the request that caused it"
