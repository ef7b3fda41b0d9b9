"""``http-forward``: an HTTPS endpoint the adapter forwards each verzoeknotificatie payload to.

Several adapters hand the payload on to the VTH system with an HTTP POST; pointing that forward
at this endpoint shows the trigger reached "the application". The endpoint answers
``202 Accepted`` with a small JSON body when the verzoeknummer could be read, and ``400`` with a
problem body when not (the payload is kept either way). With ``require_client_certificate`` the
adapter must present a certificate issued under ``trust``; its OIN is recorded as the sender.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography import x509

from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.server import HttpsServer, Request, Response
from pytest_dso.triggers.base import LoggingSource
from pytest_dso.triggers.extract import STAM_EXTRACTOR, TriggerParseError, VerzoeknummerExtractor

#: Upper bound of a forwarded payload.
MAX_PAYLOAD = 16 * 1024 * 1024


def split_listen(listen: str) -> tuple[str, int]:
    """``"host:port"`` (``[v6]:port`` too) as ``(host, port)``; raises ``ValueError``."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"listen address {listen!r} is not host:port (e.g. 127.0.0.1:0)")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"listen address {listen!r}: port {port} is out of range")
    return host.strip("[]") or "127.0.0.1", port


class HttpForwardTriggerSource(LoggingSource):
    """Receive forwarded payloads on ``POST {url}{path}``; see the module docstring."""

    name = "http-forward"

    def __init__(
        self,
        identity: Identity,
        trust: Sequence[x509.Certificate] = (),
        *,
        listen: str = "127.0.0.1:0",
        path: str = "/verzoeknotificaties",
        require_client_certificate: bool = True,
        extractor: VerzoeknummerExtractor = STAM_EXTRACTOR,
    ) -> None:
        super().__init__()
        self.host, self.port_wanted = split_listen(listen)
        self.path = "/" + path.strip("/")
        self.extractor = extractor
        if require_client_certificate and not trust:
            raise ValueError("http-forward with client certificates needs trust anchors")
        context = identity.server_context(
            trust or None, require_client_certificate=require_client_certificate
        )
        self._server = HttpsServer(
            context,
            host=self.host,
            port=self.port_wanted,
            max_body=MAX_PAYLOAD,
            name="dso-trigger-http-forward",
        )
        self._server.route("POST", self.path, self._handle)

    @property
    def url(self) -> str:
        """The URL the adapter must forward to (after :meth:`start`)."""
        return self._server.url_for(self.path)

    @property
    def server(self) -> HttpsServer:
        """The underlying server (for diagnostics such as TLS failures)."""
        return self._server

    def start(self) -> None:
        """Bind and start serving."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.stop()

    def _handle(self, request: Request) -> Response:
        where = f"POST from {request.client_address[0]}"
        sender = request.peer_oin
        message_id = request.header("x-ebms-messageid") or request.header("x-message-id")
        if not request.body.strip():
            self.log.record(b"", verzoeknummer="", sender_oin=sender, problem="empty body",
                            location=where)
            return Response.problem(400, "Empty payload", "the forwarded payload is empty")
        try:
            found = self.extractor.extract(request.body)
        except TriggerParseError as exc:
            self.log.record(request.body, verzoeknummer="", sender_oin=sender,
                            message_id=message_id, problem=str(exc), location=where)
            return Response.problem(400, "No verzoeknummer", str(exc))
        trigger = self.log.record(
            request.body,
            verzoeknummer=found.verzoeknummer,
            kind=found.kind,
            sender_oin=sender,
            recipient_oin=found.recipient_oin,
            message_id=message_id,
            location=where,
        )
        body = {"verzoeknummer": trigger.verzoeknummer, "duplicate": trigger.duplicate}
        return Response(202, json.dumps(body).encode(), "application/json")
