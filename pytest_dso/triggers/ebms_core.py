"""``ebms-core``: poll the REST admin API of the open-source adapter ebms-core [V].

Calls (relative to ``[triggers] ebms_core_url``, e.g. ``https://dka:8443/service/rest/v19``;
see ebms-digikoppeling.md §13):

- ``GET ebms/messages/unprocessed?cpaId=…&maxNr=…``: the ids of received, unprocessed messages;
- ``GET ebms/messages/{id}?process=false``: one message, **without** marking it processed;
- ``PATCH ebms/messages/{id}``: mark it processed, only when ``mark_processed`` is set, because
  the adapter's own application may still need to pick it up.

A message is ``{"properties": {cpaId, fromParty{partyId, role}, toParty{…}, service, action,
timestamp, conversationId, messageId, …}, "dataSources": [{name, contentType, content
(base64)}]}``. The first XML data source is the verzoeknotificatie. Party ids look like
``urn:osb:oin:<OIN>``; the OIN is taken from their tail. Paths are overridable because ebms-core
versions differ.
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
    }
)


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
        extractor: VerzoeknummerExtractor = STAM_EXTRACTOR,
    ) -> None:
        super().__init__()
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
        self.paths = {**DEFAULT_PATHS, **(paths or {})}
        self.headers = dict(headers or {})
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

    def _call(self, method: str, url: str) -> HttpExchange | None:
        exchange = self.client.request(
            method, url, headers={"Accept": "application/json", **self.headers}
        )
        if not exchange.ok:
            self._note(f"{method} {url}: {exchange.error}")
            return None
        if exchange.status is None or not 200 <= exchange.status < 300:
            detail = exchange.response_body[:200].decode("utf-8", "replace")
            self._note(f"{method} {url}: HTTP {exchange.status} {detail}")
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
        exchange = self._call("GET", self._url("unprocessed", query))
        if exchange is None:
            return 0
        try:
            ids = json.loads(exchange.response_body)
        except ValueError:
            self._note("unprocessed messages: the response is not a JSON list")
            return 0
        if not isinstance(ids, list):
            self._note("unprocessed messages: expected a JSON list of message ids")
            return 0
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
        exchange = self._call(
            "GET", self._url("message", {"process": "false"}, messageId=message_id)
        )
        if exchange is None:
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
            "PATCH", self._url("message", messageId=message_id)
        ) is not None:
            with self._lock:
                self._state.processed.add(message_id)
        return True


def _timestamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return min(parsed, dt.datetime.now(dt.UTC))
