"""``ebms-core``: poll the REST API of the open-source adapter ebms-core [V].

Calls (relative to ``[triggers] ebms_core_url``, e.g. ``https://dka:8443/service/rest/v19``;
ebms-core's ``EbMSMessageRestService``, see ebms-digikoppeling.md §13):

- ``GET ebms/messages/unprocessed?cpaId=…&maxNr=…``: the ids of received, unprocessed messages;
- ``GET ebms/messages/{id}?process=false``: one message, **without** marking it processed
  (ebms-core's default is ``false`` too; it is sent explicitly);
- ``PATCH ebms/messages/{id}``: mark it processed, only when ``mark_processed`` is set, because
  the adapter's own application may still need to pick it up. ebms-core answers 204, also for
  an id it does not know;
- ``GET ebms/messages/{id}/status`` (:meth:`EbmsCoreTriggerSource.message_status`) and
  ``POST ebms/ping/{cpaId}/from/{from}/to/{to}`` (:meth:`EbmsCoreTriggerSource.ping`).

With ``use_events`` (``[triggers] ebms_core_events = true``) the source reads ebms-core's events
feed instead of the unprocessed-messages list: ``GET ebms/events/unprocessed?eventTypes=RECEIVED
&maxNr=…[&cpaId=…]`` answers ``[{"messageId", "type"}]``, each RECEIVED message is fetched as
above, and with ``mark_processed`` ``PATCH ebms/events/{id}`` processes the event and its
message (an adapter whose application consumes events sees the same feed).

ebms-core answers "not found" with 404 and an **empty body**, and other failures with 500 and
the exception text. ebms-admin protects the API with BASIC auth or a client certificate:
``username``/``password`` add an ``Authorization: Basic`` header (the password comes from an
environment variable, see the registry); the client certificate is the one of ``client``.
``headers`` are sent on every call (a reverse proxy may need some); ``paths`` override the
defaults in :data:`DEFAULT_PATHS` because ebms-core versions and proxies differ.

A message is ``{"properties": {cpaId, fromParty{partyId, role}, toParty{…}, service, action,
timestamp, conversationId, messageId, …}, "dataSources": [{name, contentType, content
(base64)}]}``. The first XML data source is the verzoeknotificatie. Party ids look like
``urn:osb:oin:<OIN>``; the OIN is taken from their tail.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode

from pytest_dso.transport.client import HttpClient, HttpExchange
from pytest_dso.triggers.base import LoggingSource
from pytest_dso.triggers.extract import STAM_EXTRACTOR, TriggerParseError, VerzoeknummerExtractor
from pytest_dso.triggers.folder import clamp_poll_interval

DEFAULT_PATHS: Mapping[str, str] = MappingProxyType(
    {
        "unprocessed": "ebms/messages/unprocessed",
        "message": "ebms/messages/{messageId}",
        "status": "ebms/messages/{messageId}/status",
        "ping": "ebms/ping/{cpaId}/from/{fromPartyId}/to/{toPartyId}",
        "events": "ebms/events/unprocessed",
        "event": "ebms/events/{messageId}",
    }
)
#: The placeholders each path must keep.
PATH_PLACEHOLDERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "unprocessed": (),
        "message": ("messageId",),
        "status": ("messageId",),
        "ping": ("cpaId", "fromPartyId", "toPartyId"),
        "events": (),
        "event": ("messageId",),
    }
)


def check_paths(paths: Mapping[str, str]) -> dict[str, str]:
    """``DEFAULT_PATHS`` with ``paths`` applied; ``ValueError`` says which override is wrong."""
    result = dict(DEFAULT_PATHS)
    for key, value in paths.items():
        if key not in DEFAULT_PATHS:
            raise ValueError(
                f"[triggers] ebms_core_paths: unknown key {key!r}; use "
                + ", ".join(sorted(DEFAULT_PATHS))
            )
        if "://" in value or "?" in value:
            raise ValueError(
                f"[triggers] ebms_core_paths.{key} = {value!r}: give a path relative to "
                "ebms_core_url, without a query"
            )
        missing = [p for p in PATH_PLACEHOLDERS[key] if "{" + p + "}" not in value]
        if missing:
            raise ValueError(
                f"[triggers] ebms_core_paths.{key} = {value!r} lacks "
                + ", ".join("{" + p + "}" for p in missing)
            )
        result[key] = value
    return result


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value for BASIC auth."""
    if ":" in username:
        raise ValueError("[triggers] ebms_core_username must not contain ':'")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


@dataclass(frozen=True)
class MessageStatus:
    """``GET ebms/messages/{id}/status``: ebms-core's status name and its time."""

    status: str
    timestamp: dt.datetime | None


def party_oin(party_id: object) -> str | None:
    """The OIN at the end of an ebMS party id such as ``urn:osb:oin:0000…``."""
    if not isinstance(party_id, str) or not party_id:
        return None
    tail = party_id.rsplit(":", 1)[-1]
    return tail if tail.isdigit() and len(tail) == 20 else None


@dataclass(frozen=True)
class EbmsCoreMessage:
    """One message as the REST API returns it (payload decoded)."""

    message_id: str
    properties: Mapping[str, Any]
    payload: bytes
    content_type: str = ""

    @property
    def sender_oin(self) -> str | None:
        """OIN of the From party."""
        return party_oin(_party(self.properties, "fromParty"))

    @property
    def recipient_oin(self) -> str | None:
        """OIN of the To party."""
        return party_oin(_party(self.properties, "toParty"))


def _party(properties: Mapping[str, Any], key: str) -> object:
    party = properties.get(key)
    if isinstance(party, Mapping):
        return party.get("partyId")
    flat = {"fromParty": "fromPartyId", "toParty": "toPartyId"}[key]
    return properties.get(flat)


def parse_message(message_id: str, body: bytes) -> EbmsCoreMessage:
    """Decode a ``GET ebms/messages/{id}`` body; raises ``ValueError`` with the reason."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"message {message_id}: the response is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"message {message_id}: expected a JSON object")
    properties = data.get("properties") or data.get("context") or {}
    sources = data.get("dataSources") or []
    if not isinstance(properties, dict) or not isinstance(sources, list):
        raise ValueError(f"message {message_id}: properties/dataSources have the wrong type")
    chosen: dict[str, Any] | None = None
    for item in sources:
        if isinstance(item, dict) and "xml" in str(item.get("contentType", "")).lower():
            chosen = item
            break
    if chosen is None and sources and isinstance(sources[0], dict):
        chosen = sources[0]
    if chosen is None:
        raise ValueError(f"message {message_id} has no dataSources (no payload)")
    try:
        payload = base64.b64decode(str(chosen.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"message {message_id}: dataSource content is not base64") from None
    return EbmsCoreMessage(message_id, properties, payload, str(chosen.get("contentType", "")))


@dataclass
class _State:
    seen: set[str] = field(default_factory=set)
    processed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    polls: int = 0


class EbmsCoreTriggerSource(LoggingSource):
    """Poll ebms-core for received messages; see the module docstring."""

    name = "ebms-core"

    def __init__(
        self,
        base_url: str,
        client: HttpClient,
        *,
        cpa_id: str | None = None,
        mark_processed: bool = False,
        poll_interval: float = 1.0,
        max_nr: int = 100,
        paths: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        username: str | None = None,
        password: str | None = None,
        extractor: VerzoeknummerExtractor = STAM_EXTRACTOR,
        use_events: bool = False,
    ) -> None:
        super().__init__()
        self.use_events = use_events
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"[triggers] ebms_core_url {base_url!r} is not an http(s) URL; use e.g. "
                "https://dka.example.nl:8443/service/rest/v19"
            )
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.cpa_id = cpa_id
        self.mark_processed = mark_processed
        self.poll_interval = clamp_poll_interval(poll_interval)
        self.max_nr = max(1, min(1000, max_nr))
        self.paths = check_paths(paths or {})
        if any(k.lower() == "authorization" for k in (headers or {})):
            raise ValueError(
                "[triggers] ebms_core_headers must not set Authorization; use "
                "ebms_core_username and ebms_core_password_env"
            )
        self.headers = dict(headers or {})
        self.username = username
        # kept out of ``headers`` (and out of every message) because it holds the password
        self._authorization = (
            basic_authorization(username, password or "") if username is not None else None
        )
        self.extractor = extractor
        self._state = _State()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dso-trigger-ebms-core",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (one last poll first, so nothing received before stop is missed)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(max(5.0, 2 * self.poll_interval) + self.client.read_timeout)
        self.poll()

    def errors(self) -> list[str]:
        """Problems met while polling (unreachable API, unexpected answers)."""
        with self._lock:
            return list(self._state.errors)

    def processed(self) -> set[str]:
        """Message ids this source marked processed (only with ``mark_processed``)."""
        with self._lock:
            return set(self._state.processed)

    @property
    def polls(self) -> int:
        """How many polls were done."""
        with self._lock:
            return self._state.polls

    def _run(self) -> None:
        while True:
            self.poll()
            if self._stop.wait(self.poll_interval):
                return

    def _url(self, key: str, query: Mapping[str, str] | None = None, **values: str) -> str:
        path = self.paths[key]
        for name, value in values.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        url = f"{self.base_url}/{path.lstrip('/')}"
        return f"{url}?{urlencode(query)}" if query else url

    def _request(self, method: str, url: str) -> HttpExchange:
        headers = {"Accept": "application/json", **self.headers}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        return self.client.request(method, url, headers=headers)

    def _problem(self, method: str, url: str, exchange: HttpExchange) -> str:
        """Why ``exchange`` failed, with what to do about it (never the credentials)."""
        if not exchange.ok:
            return f"{method} {url}: {exchange.error}"
        status = exchange.status
        detail = exchange.response_body[:200].decode("utf-8", "replace").strip()
        if status == 401:
            challenge = next(
                (v for k, v in exchange.response_headers if k.lower() == "www-authenticate"), ""
            )
            how = (
                "the user name or password was refused; check [triggers] ebms_core_username "
                "and the environment variable named by ebms_core_password_env"
                if self._authorization is not None
                else "it asks for credentials; set [triggers] ebms_core_username and "
                "ebms_core_password_env"
            )
            shown = f" ({challenge})" if challenge else ""
            return f"{method} {url}: HTTP 401{shown}: {how}"
        if status == 403:
            return (f"{method} {url}: HTTP 403: access is refused; the client certificate "
                    "or user is not allowed on this API")
        if status == 404 and not detail:
            return f"{method} {url}: HTTP 404 (ebms-core: not found)"
        return f"{method} {url}: HTTP {status} {detail}".rstrip()

    def _call(self, method: str, url: str) -> HttpExchange | None:
        exchange = self._request(method, url)
        if not exchange.ok or exchange.status is None or not 200 <= exchange.status < 300:
            self._note(self._problem(method, url, exchange))
            return None
        return exchange

    def _note(self, text: str) -> None:
        with self._lock:
            if len(self._state.errors) < 100:
                self._state.errors.append(text)

    def poll(self) -> int:
        """One poll; returns the number of new messages recorded."""
        with self._lock:
            self._state.polls += 1
        query = {"maxNr": str(self.max_nr)}
        if self.cpa_id:
            query["cpaId"] = self.cpa_id
        what = "unprocessed messages"
        if self.use_events:
            query = {"eventTypes": "RECEIVED", **query}
            what = "unprocessed events"
        exchange = self._call("GET", self._url("events" if self.use_events else "unprocessed",
                                               query))
        if exchange is None:
            return 0
        try:
            ids = json.loads(exchange.response_body)
        except ValueError:
            self._note(f"{what}: the response is not a JSON list")
            return 0
        if not isinstance(ids, list):
            self._note(f"{what}: expected a JSON list")
            return 0
        if self.use_events:
            ids = [e.get("messageId") for e in ids
                   if isinstance(e, dict) and e.get("type", "RECEIVED") == "RECEIVED"]
        new = 0
        for message_id in ids:
            if not isinstance(message_id, str):
                continue
            with self._lock:
                if message_id in self._state.seen:
                    continue
            if self._fetch(message_id):
                new += 1
        return new

    def _fetch(self, message_id: str) -> bool:
        url = self._url("message", {"process": "false"}, messageId=message_id)
        exchange = self._request("GET", url)
        if exchange.ok and exchange.status == 404:
            # gone between the list and the fetch (processed by the adapter's application)
            with self._lock:
                self._state.seen.add(message_id)
            self._note(self._problem("GET", url, exchange) + "; it is no longer there")
            return False
        if not exchange.ok or exchange.status is None or not 200 <= exchange.status < 300:
            self._note(self._problem("GET", url, exchange))
            return False
        with self._lock:
            self._state.seen.add(message_id)
        where = f"ebms-core message {message_id}"
        try:
            message = parse_message(message_id, exchange.response_body)
        except ValueError as exc:
            self.log.record(exchange.response_body, verzoeknummer="", message_id=message_id,
                            problem=str(exc), location=where)
            return True
        received_at = _timestamp(message.properties.get("timestamp"))
        try:
            found = self.extractor.extract(message.payload)
        except TriggerParseError as exc:
            self.log.record(message.payload, verzoeknummer="", message_id=message_id,
                            sender_oin=message.sender_oin, recipient_oin=message.recipient_oin,
                            problem=str(exc), location=where)
            return True
        self.log.record(
            message.payload,
            verzoeknummer=found.verzoeknummer,
            kind=found.kind,
            sender_oin=message.sender_oin,
            recipient_oin=found.recipient_oin or message.recipient_oin,
            message_id=str(message.properties.get("messageId") or message_id),
            location=where,
            received_at=received_at,
        )
        if self.mark_processed and self._call(
            "PATCH", self._url("event" if self.use_events else "message", messageId=message_id)
        ) is not None:
            with self._lock:
                self._state.processed.add(message_id)
        return True

    def message_status(self, message_id: str) -> MessageStatus | None:
        """``GET ebms/messages/{id}/status``; ``None`` (and an error noted) when ebms-core
        does not know the id or the call fails."""
        url = self._url("status", messageId=message_id)
        exchange = self._call("GET", url)
        if exchange is None:
            return None
        try:
            data = json.loads(exchange.response_body)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            self._note(f"GET {url}: expected {{\"status\": …, \"timestamp\": …}}")
            return None
        return MessageStatus(data["status"], _timestamp(data.get("timestamp"), clamp=False))

    def ping(self, cpa_id: str, from_party_id: str, to_party_id: str) -> str | None:
        """``POST ebms/ping/…``: ``None`` when ebms-core got a Pong (204), else the reason.
        Party ids are ``type:value`` (``urn:osb:oin:<OIN>``)."""
        url = self._url(
            "ping", cpaId=cpa_id, fromPartyId=from_party_id, toPartyId=to_party_id
        )
        exchange = self._request("POST", url)
        if exchange.ok and exchange.status is not None and 200 <= exchange.status < 300:
            return None
        return self._problem("POST", url, exchange)


def _timestamp(value: object, *, clamp: bool = True) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:  # a JSON provider may write an Instant as epoch seconds
            parsed = dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return min(parsed, dt.datetime.now(dt.UTC)) if clamp else parsed
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return min(parsed, dt.datetime.now(dt.UTC)) if clamp else parsed
