"""A stand-in of the ebms-core REST API (``EbMSMessageRestService``), for local runs and
self-tests.

It follows the behaviours of ebms-core 2.20 [V] that a client can observe, under
``/service/rest/v19/ebms``:

- ``POST ping/{cpaId}/from/{fromPartyId}/to/{toPartyId}``: 204 with an empty body when the
  peer answered with a Pong; 500 ``No response received!`` when it did not; 500
  ``No CPA found for cpaId=…`` for an unknown CPA;
- ``POST messages`` (JSON ``{properties, dataSources}``): 200 ``text/plain`` with the new
  MessageId; ``PUT messages/{id}`` (resend): 200 with a new MessageId, 404 for an unknown id;
- ``GET messages/unprocessed?cpaId&fromPartyId&…&maxNr``: the ids of RECEIVED messages;
- ``GET messages/{id}?process=``: the message; ``process`` **defaults to false**; with
  ``process=true`` it is marked PROCESSED first;
- ``PATCH messages/{id}``: mark PROCESSED; **204, also for an unknown id** (an update of no
  rows is no error);
- ``GET messages/{id}/status``: ``{"timestamp", "status"}``;
- ``GET events/unprocessed?eventTypes=RECEIVED,…&maxNr``: ``[{"messageId", "type"}]``;
  ``PATCH events/{messageId}``: 204, processes the event and the message;
- every "not found" is **404 with an empty body**; other failures are 500 with the exception
  text as the body.

Access is protected the way ebms-admin does it: BASIC auth (``users``: a 401 with
``WWW-Authenticate: Basic realm=…`` and an empty body otherwise) and/or a client certificate
(a server ``context`` that requires one). Messages are added with :meth:`add_message` (in
local mode the reference adapter does that for every verzoeknotificatie). It is a model of the
real API for testing, not a replacement for it.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime as dt
import hmac
import json
import ssl
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_dso.transport.server import HttpsServer, Request, Response

BASE_PATH = "/service/rest/v19"
EBMS_PATH = f"{BASE_PATH}/ebms"
#: Receive-side statuses a message of the stand-in can have.
RECEIVED, PROCESSED = "RECEIVED", "PROCESSED"
EVENT_TYPES = ("RECEIVED", "DELIVERED", "FAILED", "EXPIRED")
#: At most this many messages are kept (the oldest go first).
MAX_MESSAGES = 10_000


@dataclass
class _Stored:
    message_id: str
    properties: dict[str, Any]
    data_sources: list[dict[str, Any]]
    status: str = RECEIVED
    status_time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class _Counts:
    list_calls: int = 0
    get_calls: int = 0
    patch_calls: int = 0
    processed_by_get: int = 0
    status_calls: int = 0
    ping_calls: int = 0
    send_calls: int = 0
    event_calls: int = 0
    unauthorized: int = 0


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _empty(status: int) -> Response:
    return Response(status)


def _error(text: str, status: int = 500, content_type: str = "application/json") -> Response:
    # ebms-core writes the exception message as the entity, also for JSON endpoints
    return Response(status, text.encode("utf-8"), content_type)


class EbmsCoreStandIn:
    """The stand-in server. ``context`` is its server TLS context (``None``: plain HTTP; one
    that requires a client certificate gives client-certificate auth). ``users`` maps BASIC
    user names to passwords (``None``: no BASIC auth). ``cpa_ids`` are the CPAs it knows
    (``None``: any). ``pong`` says whether a ping is answered."""

    def __init__(
        self,
        context: ssl.SSLContext | None,
        *,
        host: str = "127.0.0.1",
        users: Mapping[str, str] | None = None,
        realm: str = "ebms-admin",
        cpa_ids: Iterable[str] | None = None,
        pong: bool = True,
    ) -> None:
        self._server = HttpsServer(context, host=host, name="dso-ebms-core-standin")
        self._server.route("*", EBMS_PATH, self._dispatch)
        self._users = dict(users) if users is not None else None
        self.realm = realm
        self.cpa_ids = frozenset(cpa_ids) if cpa_ids is not None else None
        self.pong = pong
        self._lock = threading.Lock()
        self._messages: dict[str, _Stored] = {}
        self._order: list[str] = []
        self._events: dict[str, str] = {}
        self._counts = _Counts()
        self._requests: collections.deque[tuple[str, str, dict[str, str]]] = (
            collections.deque(maxlen=500)
        )
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

    # -- the application side -----------------------------------------------------------
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
        """Store a received message (status RECEIVED, with a RECEIVED event); returns its id.
        The same ``message_id`` again stores a second copy under a new id, as a re-delivery
        would."""
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
                "timestamp": _now_text(),
                "conversationId": str(uuid.uuid4()),
                "messageId": stored_id,
                "messageStatus": RECEIVED,
            }
            source = {
                "name": "verzoeknotificatie.xml",
                "contentId": f"{stored_id}.payload",
                "contentType": content_type,
                "content": base64.b64encode(payload).decode("ascii"),
            }
            self._store(_Stored(stored_id, properties, [source]))
            self._events[stored_id] = "RECEIVED"
        return stored_id

    def _store(self, stored: _Stored) -> None:
        if len(self._order) >= MAX_MESSAGES:
            oldest = self._order.pop(0)
            self._messages.pop(oldest, None)
            self._events.pop(oldest, None)
        self._messages[stored.message_id] = stored
        self._order.append(stored.message_id)

    def status(self, message_id: str) -> str | None:
        """The message's status (``None`` for an unknown id)."""
        with self._lock:
            stored = self._messages.get(message_id)
            return stored.status if stored else None

    def set_status(self, message_id: str, status: str, event: str | None = None) -> None:
        """Change a message's status (e.g. a sent message DELIVERED), with an optional event."""
        with self._lock:
            stored = self._messages[message_id]
            stored.status = status
            stored.properties["messageStatus"] = status
            stored.status_time = dt.datetime.now(dt.UTC)
            if event is not None:
                self._events[message_id] = event

    def sent(self) -> list[dict[str, Any]]:
        """The messages posted with ``POST messages`` (their properties), oldest first."""
        with self._lock:
            return [
                dict(self._messages[i].properties) for i in self._order
                if self._messages[i].properties.get("sent")
            ]

    def counts(self) -> dict[str, int]:
        """How often each call was made."""
        with self._lock:
            c = self._counts
            return {"list": c.list_calls, "get": c.get_calls, "patch": c.patch_calls,
                    "processed_by_get": c.processed_by_get, "status": c.status_calls,
                    "ping": c.ping_calls, "send": c.send_calls, "events": c.event_calls,
                    "unauthorized": c.unauthorized}

    # -- HTTP -----------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        if self._users is None:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        expected = self._users.get(user)
        return bool(sep) and expected is not None and hmac.compare_digest(
            expected.encode("utf-8"), password.encode("utf-8")
        )

    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """The last requests seen: (method, target with query, headers without
        ``authorization``)."""
        with self._lock:
            return list(self._requests)

    def _dispatch(self, request: Request) -> Response:
        shown = {k: v for k, v in request.headers.items() if k != "authorization"}
        with self._lock:
            self._requests.append((request.method, request.target, shown))
        if not self._authorized(request):
            with self._lock:
                self._counts.unauthorized += 1
            return Response(401, headers=(("WWW-Authenticate", f'Basic realm="{self.realm}"'),))
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return _error("simulated ebms-core failure")
        parts = [unquote(p) for p in request.subpath.strip("/").split("/") if p]
        method = request.method
        if parts[:1] == ["ping"] and len(parts) == 6 and method == "POST":
            return self._ping(parts[1], parts[3], parts[5])
        if parts[:1] == ["events"]:
            if parts[1:] == ["unprocessed"] and method == "GET":
                return self._list_events(request)
            if len(parts) == 2 and method == "PATCH":
                return self._process_event(parts[1])
        if parts[:1] == ["messages"]:
            rest = parts[1:]
            if not rest and method == "POST":
                return self._send(request)
            if rest == ["unprocessed"] and method == "GET":
                return self._list(request)
            if len(rest) == 1 and method == "GET":
                return self._get(request, rest[0])
            if len(rest) == 1 and method == "PATCH":
                return self._patch(rest[0])
            if len(rest) == 1 and method == "PUT":
                return self._resend(rest[0])
            if len(rest) == 2 and rest[1] == "status" and method == "GET":
                return self._message_status(rest[0])
        return _empty(404)

    def _ping(self, cpa_id: str, from_party: str, to_party: str) -> Response:
        with self._lock:
            self._counts.ping_calls += 1
        if self.cpa_ids is not None and cpa_id not in self.cpa_ids:
            return _error(f"No CPA found for cpaId={cpa_id}")
        if not from_party or not to_party:
            return _error(f"No fromParty found for cpaId={cpa_id}, fromPartyId={from_party}")
        return _empty(204) if self.pong else _error("No response received!")

    def _send(self, request: Request) -> Response:
        with self._lock:
            self._counts.send_calls += 1
        try:
            data = json.loads(request.body)
            properties = data["properties"]
            sources = data.get("dataSources") or []
            cpa_id = str(properties["cpaId"])
            for key in ("fromPartyId", "fromRole", "service", "action"):
                if not isinstance(properties.get(key), str):
                    raise KeyError(key)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(f"Invalid message request: {exc}", 400, "text/plain")
        if self.cpa_ids is not None and cpa_id not in self.cpa_ids:
            return _error(f"No CPA found for message.cpaId={cpa_id}", 500, "text/plain")
        message_id = str(properties.get("messageId") or f"{uuid.uuid4()}@standin")
        stored = _Stored(
            message_id,
            {
                "cpaId": cpa_id,
                "fromParty": {"partyId": properties["fromPartyId"], "role": properties["fromRole"]},
                "toParty": {"partyId": properties.get("toPartyId"),
                            "role": properties.get("toRole")},
                "service": properties["service"],
                "action": properties["action"],
                "timestamp": _now_text(),
                "conversationId": properties.get("conversationId") or str(uuid.uuid4()),
                "messageId": message_id,
                "refToMessageId": properties.get("refToMessageId"),
                "messageStatus": "CREATED",
                "sent": True,
            },
            [s for s in sources if isinstance(s, dict)],
            status="CREATED",
        )
        with self._lock:
            if message_id in self._messages:
                return _error(f"MessageId {message_id} already used!", 500, "text/plain")
            self._store(stored)
        return Response.text(message_id)

    def _resend(self, message_id: str) -> Response:
        with self._lock:
            stored = self._messages.get(message_id)
            if stored is None:
                return _empty(404)
            new_id = f"{uuid.uuid4()}@standin"
            properties = {**stored.properties, "messageId": new_id, "messageStatus": "CREATED",
                          "timestamp": _now_text()}
            self._store(_Stored(new_id, properties, list(stored.data_sources), "CREATED"))
        return Response.text(new_id)

    def _visible(self, stored: _Stored) -> dict[str, Any]:
        properties = {k: v for k, v in stored.properties.items() if k != "sent"}
        return {**properties, "messageStatus": stored.status}

    def _get(self, request: Request, message_id: str) -> Response:
        process = (request.query.get("process") or ["false"])[0].lower() == "true"
        with self._lock:
            self._counts.get_calls += 1
            if process and self._process(message_id):
                self._counts.processed_by_get += 1
            stored = self._messages.get(message_id)
            if stored is None:
                return _empty(404)
            body = {"properties": self._visible(stored), "dataSources": stored.data_sources}
        return Response.json(body)

    def _process(self, message_id: str) -> bool:
        """RECEIVED → PROCESSED; False when nothing changed (unknown id or other status)."""
        stored = self._messages.get(message_id)
        if stored is None or stored.status != RECEIVED:
            return False
        stored.status = PROCESSED
        stored.status_time = dt.datetime.now(dt.UTC)
        return True

    def _filtered(self, request: Request) -> list[_Stored]:
        query = {k: v[0] for k, v in request.query.items() if v and v[0]}
        result = []
        for message_id in self._order:
            stored = self._messages[message_id]
            p = stored.properties
            checks = {
                "cpaId": p.get("cpaId"),
                "fromPartyId": p["fromParty"].get("partyId"),
                "fromRole": p["fromParty"].get("role"),
                "toPartyId": p["toParty"].get("partyId"),
                "toRole": p["toParty"].get("role"),
                "service": p.get("service"),
                "action": p.get("action"),
                "conversationId": p.get("conversationId"),
                "messageId": p.get("messageId"),
                "refToMessageId": p.get("refToMessageId"),
            }
            if all(query[k] == v for k, v in checks.items() if k in query):
                result.append(stored)
        return result

    @staticmethod
    def _max_nr(request: Request) -> int:
        text = (request.query.get("maxNr") or ["0"])[0] or "0"
        return int(text)  # ValueError: the caller answers 404, as JAX-RS does for a bad param

    def _list(self, request: Request) -> Response:
        try:
            max_nr = self._max_nr(request)
        except ValueError:
            return _empty(404)
        with self._lock:
            self._counts.list_calls += 1
            ids = [s.message_id for s in self._filtered(request) if s.status == RECEIVED]
        return Response.json(ids[:max_nr] if max_nr > 0 else ids)

    def _patch(self, message_id: str) -> Response:
        with self._lock:
            self._counts.patch_calls += 1
            self._process(message_id)
        return _empty(204)

    def _message_status(self, message_id: str) -> Response:
        with self._lock:
            self._counts.status_calls += 1
            stored = self._messages.get(message_id)
            if stored is None:
                return _empty(404)
            stamp = stored.status_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            return Response.json({"timestamp": stamp, "status": stored.status})

    def _list_events(self, request: Request) -> Response:
        wanted: set[str] = set()
        for value in request.query.get("eventTypes", []):
            wanted |= {v for v in value.split(",") if v}
        if wanted - set(EVENT_TYPES):
            return _empty(404)  # JAX-RS cannot convert the enum parameter
        try:
            max_nr = self._max_nr(request)
        except ValueError:
            return _empty(404)
        with self._lock:
            self._counts.event_calls += 1
            events = [
                {"messageId": s.message_id, "type": self._events[s.message_id]}
                for s in self._filtered(request)
                if s.message_id in self._events
                and (not wanted or self._events[s.message_id] in wanted)
            ]
        return Response.json(events[:max_nr] if max_nr > 0 else events)

    def _process_event(self, message_id: str) -> Response:
        with self._lock:
            self._events.pop(message_id, None)
            self._process(message_id)
        return _empty(204)
