"""A small real HTTPS server (mTLS, test PKI, 127.0.0.1) speaking the clients' default paths."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pytest_dso.dso.rest import RestConfig, RestSession
from pytest_dso.dso.shapes import (
    BehandeldienstConfiguratie,
    DocumentLink,
    Referenties,
    RouteringAdvies,
    ShapeError,
    Zaakverwijzing,
    ZoekVraag,
    configuraties_to_json,
    zoek_resultaat_to_json,
)
from pytest_dso.pkio.testpki import TestPki, build_test_pki
from pytest_dso.sim.domain.mandates import MandateTable
from pytest_dso.sim.domain.routing import (
    ConfiguratieNotFoundError,
    InvalidConfiguratieError,
    RoutingConflictError,
    RoutingTable,
)
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.model import Organisatie, Projectactiviteit, Verzoek, VerzoekType
from pytest_dso.stam.xml import render_verzoek

AFH = "/overheid/verzoeken/api/afhandelen/v2"
BDC = "/overheid/toepasbare-regels/api/behandeldienstconfiguraties/v1"
VR = "/publiek/toepasbare-regels/api/verzoeksroutering/v2"
API_KEY = "test-key-0123456789"


@dataclass
class World:
    """What the test server knows and what it saw."""

    pki: TestPki
    verzoeken: dict[str, Verzoek] = field(default_factory=dict)
    documenten: dict[str, BijlageSpec] = field(default_factory=dict)
    routing: RoutingTable = field(default_factory=RoutingTable)
    mandates: MandateTable = field(default_factory=MandateTable)
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    api_key: str = API_KEY


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _client_oin(self) -> str:
        cert = self.connection.getpeercert()
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "serialNumber":
                    return str(value)
        return ""

    def _send(self, status: int, body: bytes | Any, ctype: str = "application/hal+json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("API-Version", "2.0.1")
        self.end_headers()
        self.wfile.write(data)

    def _problem(self, status: int, detail: str) -> None:
        self._send(status, {"status": status, "detail": detail}, "application/problem+json")

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _handle(self, method: str) -> None:
        w = self.server.world
        oin = self._client_oin()
        with w.lock:
            w.seen.append(
                {
                    "method": method,
                    "path": self.path,
                    "oin": oin,
                    "headers": dict(self.headers.items()),
                }
            )
        path = self.path.split("?", 1)[0]
        base = f"https://127.0.0.1:{self.server.server_address[1]}"
        if path.startswith(AFH + "/verzoeken/"):
            rest = path[len(AFH) + len("/verzoeken/") :].split("/")
            if rest == ["_zoek"] and method == "POST":
                vraag = ZoekVraag.from_json(self._body())
                hits = [
                    Zaakverwijzing(
                        v.verzoeknummer, v.bevoegd_gezag.oin, v.uitvoerende_instantie.oin
                    )
                    for v in w.verzoeken.values()
                    if (not vraag.verzoeknummer or v.verzoeknummer == vraag.verzoeknummer)
                    and w.mandates.may_fetch(oin, v)
                ]
                page = hits[vraag.page * vraag.page_size : (vraag.page + 1) * vraag.page_size]
                return self._send(200, zoek_resultaat_to_json(page, vraag.page, len(hits)))
            v = w.verzoeken.get(rest[0])
            if v is None:
                return self._problem(404, f"verzoek {rest[0]} not found")
            decision = w.mandates.may_fetch(oin, v, self.headers.get("X-Namens-OIN"))
            if not decision:
                return self._problem(403, decision.reason)
            if len(rest) == 1:
                refs = Referenties(
                    v.verzoeknummer,
                    f"{base}{AFH}/verzoeken/{v.verzoeknummer}/verzoek",
                    f"{AFH}/verzoeken/{v.verzoeknummer}/pdf",
                    tuple(
                        DocumentLink(
                            f"verzoeken/{v.verzoeknummer}/documenten/{b.document_id}",
                            b.document_id,
                            b.bestandsnaam,
                            b.mediatype,
                        )
                        for b in v.bijlagen
                    ),
                    v.volgnummer,
                )
                return self._send(200, refs.to_json(f"{base}{self.path}"))
            if rest[1:] == ["verzoek"]:
                return self._send(200, render_verzoek(v), "application/xml")
            if rest[1:] == ["pdf"]:
                return self._send(200, b"%PDF-1.4 publiceerbaar", "application/pdf")
            if len(rest) == 3 and rest[1] == "documenten" and rest[2] in w.documenten:
                return self._send(200, w.documenten[rest[2]].read(), "application/pdf")
            return self._problem(404, "no such resource")
        if path.rstrip("/") == BDC:
            if method == "POST":
                try:
                    created = w.routing.create(BehandeldienstConfiguratie.from_json(self._body()))
                except (ShapeError, InvalidConfiguratieError) as exc:
                    return self._problem(400, str(exc))
                except RoutingConflictError as exc:
                    return self._problem(409, str(exc))
                return self._send(200, created.to_json())
            return self._send(200, configuraties_to_json(w.routing.list(oin)))
        if path.startswith(BDC + "/"):
            ident = path[len(BDC) + 1 :]
            try:
                if method == "DELETE":
                    w.routing.delete(ident)
                    return self._send(204, b"")
                return self._send(200, w.routing.get(ident).to_json())
            except ConfiguratieNotFoundError as exc:
                return self._problem(404, str(exc))
        if path == VR + "/bevoegdGezag/_bepaal" and method == "POST":
            if self.headers.get("x-api-key") != w.api_key:
                return self._problem(401, "x-api-key missing or wrong")
            advies = RouteringAdvies(
                ((Organisatie("00000099000000101000", "TEST Gemeente"), False),)
            )
            return self._send(200, {"bevoegdeGezagen": advies.to_json()["bevoegdeGezagen"]})
        return self._problem(404, f"no route for {method} {path}")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, world: World, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.world = world
        self.socket = context.wrap_socket(self.socket, server_side=True)


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """A fast (EC) test PKI for the REST tests."""
    return build_test_pki(key_type="ec256")


@pytest.fixture
def world(pki: TestPki) -> Iterator[World]:
    """The running HTTPS server's state; the server is shut down afterwards."""
    w = World(pki)
    server = Server(w, pki.identity("dso-lv").server_context(pki.hierarchy.anchors))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    w.port = server.server_address[1]
    try:
        yield w
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def config_for(world: World, **changes: Any) -> RestConfig:
    """A RestConfig pointing at the test server."""
    base = f"https://127.0.0.1:{world.port}"
    values: dict[str, Any] = {
        "base_urls": {
            "afhandelen": base + AFH,
            "behandeldienstconfiguratie": base + BDC,
            "verzoeksroutering": base + VR,
            "indienen": base + "/publiek/verzoeken/api/indienen/v5",
            "cpa_aanbieden": base + "/overheid/cpa/v1",
        },
        "timeout": 5.0,
        "connect_timeout": 5.0,
    }
    values.update(changes)
    return RestConfig(**values)


@pytest.fixture
def session_for(world: World) -> Iterator[Any]:
    """Open RestSessions for test PKI parties; all closed afterwards."""
    opened: list[RestSession] = []

    def make(slug: str, **kw: Any) -> RestSession:
        config = kw.pop("config", None) or config_for(world)
        s = RestSession(config, world.pki.identity(slug), world.pki.hierarchy.anchors, **kw)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def rest_config(world: World) -> Any:
    """Factory: a RestConfig pointing at the test server, with changes applied."""
    return lambda **changes: config_for(world, **changes)


@pytest.fixture
def add_verzoek(world: World) -> Any:
    """Factory: put a verzoek (with one generated bijlage when ``spec``) on the server."""

    def add(nummer: str, bg: str, ui: str, spec: BijlageSpec | None = None) -> Verzoek:
        v = sample_verzoek(nummer, bg, ui, spec)
        world.verzoeken[nummer] = v
        if spec is not None:
            world.documenten[f"{nummer}-001"] = spec
        return v

    return add


def sample_verzoek(nummer: str, bg: str, ui: str, spec: BijlageSpec | None = None) -> Verzoek:
    """A verzoek with one bijlage, for the afhandelen tests."""
    bijlagen = (spec.bijlage(f"{nummer}-001"),) if spec else ()
    return Verzoek(
        verzoeknummer=nummer,
        type=VerzoekType.MELDING,
        bevoegd_gezag=Organisatie(bg, "TEST Gemeente"),
        uitvoerende_instantie=Organisatie(ui, "TEST OD"),
        indiendatum=dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.UTC),
        bijlagen=bijlagen,
        projectactiviteiten=(Projectactiviteit("Gemeentes – Melding"),),
    )
