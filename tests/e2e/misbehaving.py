"""A misbehaving Verzoek afhandelen: a plain-HTTP proxy in front of the simulator's API that
breaks one thing on purpose (copied into pytester runs by the e2e self-tests).

Modes: ``bad-xml`` (an element the schema does not allow), ``bad-size`` (a bijlage one byte
short), ``bad-hash`` (a bijlage with one byte changed), ``wrong-bg`` (another bevoegd gezag in
the STAM XML), ``forbidden`` (403 on the referenties).
"""

from __future__ import annotations

import json

from cryptography import x509
from lxml import etree

from pytest_dso.pkio.identity import Identity
from pytest_dso.stam.xml import NS_VERZOEK
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import HttpsServer, Request, Response

OTHER_BG = "00000099000000999000"


class MisbehavingAfhandelen:
    """Forward to ``upstream`` (the simulator's afhandelen base URL) as ``identity``."""

    def __init__(self, upstream: str, identity: Identity, trust: tuple[x509.Certificate, ...],
                 mode: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.client = HttpClient.for_identity(identity, trust)
        self.server = HttpsServer(None, name="misbehaving-afhandelen")
        self.server.route("*", "/", self._handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/afhandelen")

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.client.close()

    def _handle(self, request: Request) -> Response:
        rest = request.target.removeprefix("/afhandelen")
        if self.mode == "forbidden":
            return Response.problem(403, "Niet geautoriseerd", "misbehaving stand-in")
        answer = self.client.request(request.method, self.upstream + rest, request.body,
                                     headers={"Accept": request.header("accept") or "*/*"})
        body = answer.response_body
        ctype = answer.content_type
        if "json" in ctype:
            origin = self.upstream
            body = json.dumps(json.loads(body)).replace(origin, self.base_url).encode()
        elif "xml" in ctype and self.mode in ("bad-xml", "wrong-bg"):
            root = etree.fromstring(body)
            if self.mode == "bad-xml":
                etree.SubElement(root, f"{{{NS_VERZOEK}}}onbekendVeld").text = "x"
            else:
                oin = root.find(f"{{{NS_VERZOEK}}}bevoegdGezag/{{{NS_VERZOEK}}}oin")
                assert oin is not None
                oin.text = OTHER_BG
            body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        elif "/documenten/" in rest and self.mode == "bad-size":
            body = body[:-1]
        elif "/documenten/" in rest and self.mode == "bad-hash":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        return Response(answer.status or 502, body, ctype or None)
