"""A stand-in of the ebms-core REST admin API, for local runs and self-tests.

It serves the subset :mod:`pytest_dso.triggers.ebms_core` uses (the unprocessed-message list, a
message with ``process=false|true``, ``PATCH`` to mark processed) on
:class:`~pytest_dso.transport.server.HttpsServer`, with the message shape of ebms-core's
OpenAPI description. Messages are added with :meth:`EbmsCoreStandIn.add_message` (in local mode
the harness's reference adapter does that for every verzoeknotificatie it receives). It is a
model of the real API for testing, not a replacement for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_dso.transport.server import HttpsServer, Request, Response

BASE_PATH = "/service/rest/v19"


@dataclass
class _Stored:
    message_id: str
    properties: dict[str, Any]
    payload: bytes
    content_type: str
    status: str = "RECEIVED"


@dataclass
class _Counts:
    list_calls: int = 0
    get_calls: int = 0
    patch_calls: int = 0
    processed_by_get: int = 0
    by_message: dict[str, int] = field(default_factory=dict)


class EbmsCoreStandIn:
    """The stand-in server. ``context`` is its server TLS context (``None``: plain HTTP)."""

    def __init__(self, context: ssl.SSLContext | None, *, host: str = "127.0.0.1") -> None:
        self._server = HttpsServer(context, host=host, name="dso-ebms-core-standin")
        prefix = f"{BASE_PATH}/ebms/messages"
        self._server.route("GET", prefix, self._get)
        self._server.route("PATCH", prefix, self._patch)
        self._lock = threading.Lock()
        self._messages: dict[str, _Stored] = {}
        self._order: list[str] = []
        self._counts = _Counts()
        self.fail_next: int = 0

    @property
    def base_url(self) -> str:
        """The REST base URL (``[triggers] ebms_core_url``)."""
        return self._server.url_for(BASE_PATH)

    @property
    def server(self) -> HttpsServer:
        """The underlying server."""
        return self._server

    def start(self) -> EbmsCoreStandIn:
        """Start serving."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def __enter__(self) -> EbmsCoreStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_message(
        self,
        payload: bytes,
        *,
        cpa_id: str = "cpa-stam",
        from_oin: str = "",
        to_oin: str = "",
        service: str = "urn:osb:services:stam",
        action: str = "verzoeknotificatie",
        message_id: str | None = None,
        content_type: str = "application/xml",
    ) -> str:
        """Store a received message (status RECEIVED); returns its id. The same
        ``message_id`` again stores a second copy under a new id, as a re-delivery would."""
        stored_id = message_id or f"{uuid.uuid4()}@standin"
        with self._lock:
            if stored_id in self._messages:
                stored_id = f"{stored_id}#{len(self._order)}"
            properties: dict[str, Any] = {
                "cpaId": cpa_id,
                "fromParty": {"partyId": f"urn:osb:oin:{from_oin}", "role": "DSO"},
                "toParty": {"partyId": f"urn:osb:oin:{to_oin}", "role": "BevoegdGezag"},
                "service": service,
                "action": action,
                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "conversationId": str(uuid.uuid4()),
                "messageId": message_id or stored_id,
                "messageStatus": "RECEIVED",
            }
            self._messages[stored_id] = _Stored(stored_id, properties, payload, content_type)
            self._order.append(stored_id)
        return stored_id

    def status(self, message_id: str) -> str | None:
        """RECEIVED or PROCESSED (``None`` for an unknown id)."""
        with self._lock:
            stored = self._messages.get(message_id)
            return stored.status if stored else None

    def counts(self) -> dict[str, int]:
        """How often each call was made."""
        with self._lock:
            c = self._counts
            return {"list": c.list_calls, "get": c.get_calls, "patch": c.patch_calls,
                    "processed_by_get": c.processed_by_get}

    def _failure(self) -> Response | None:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response.json({"message": "simulated ebms-core failure"}, 500)
        return None

    def _get(self, request: Request) -> Response:
        failed = self._failure()
        if failed is not None:
            return failed
        rest = request.subpath.strip("/")
        if rest == "unprocessed":
            return self._list(request)
        message_id = unquote(rest)
        process = (request.query.get("process") or ["true"])[0].lower() == "true"
        with self._lock:
            self._counts.get_calls += 1
            stored = self._messages.get(message_id)
            if stored is None:
                return Response.json({"message": f"message {message_id} not found"}, 404)
            if process and stored.status == "RECEIVED":
                stored.status = "PROCESSED"
                self._counts.processed_by_get += 1
            body = {
                "properties": {**stored.properties, "messageStatus": stored.status},
                "dataSources": [
                    {
                        "name": "verzoeknotificatie.xml",
                        "contentId": f"<{stored.message_id}.payload>",
                        "contentType": stored.content_type,
                        "content": base64.b64encode(stored.payload).decode("ascii"),
                    }
                ],
            }
        return Response.json(body)

    def _list(self, request: Request) -> Response:
        cpa = (request.query.get("cpaId") or [""])[0]
        try:
            max_nr = int((request.query.get("maxNr") or ["0"])[0] or 0)
        except ValueError:
            return Response.json({"message": "maxNr must be a number"}, 400)
        with self._lock:
            self._counts.list_calls += 1
            ids = [
                i for i in self._order
                if self._messages[i].status == "RECEIVED"
                and (not cpa or self._messages[i].properties["cpaId"] == cpa)
            ]
        return Response.json(ids[:max_nr] if max_nr > 0 else ids)

    def _patch(self, request: Request) -> Response:
        message_id = unquote(request.subpath.strip("/"))
        with self._lock:
            self._counts.patch_calls += 1
            stored = self._messages.get(message_id)
            if stored is None:
                return Response.json({"message": f"message {message_id} not found"}, 404)
            stored.status = "PROCESSED"
        return Response(200)
