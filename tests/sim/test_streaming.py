"""Documents from and to disk: a large bijlage is streamed from the store to the client
(downloading 50 MB keeps the simulator's resident set, read from /proc, far below the size),
and an uploaded one is streamed by the HTTP server to a file in the store folder, hashed as it
arrives (uploading 50 MB keeps the resident set small too); refused, broken and unsubmittable
uploads leave no file behind."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from sim_helpers import Dka, body_json, get, melding, start_sim, submit

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim import services
from pytest_dso.sim.config import Quotas
from pytest_dso.sim.domain.submission import SubmissionError
from pytest_dso.sim.server import Simulator
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.transport.client import HttpClient

SIZE = 50 * 1024 * 1024
STATM = Path("/proc/self/statm")


def _rss() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RssGrowth:
    """How far this process's resident set rose above its start while the block ran
    (sampled every 5 ms): ``growth`` in bytes, set when the block ends."""

    def __init__(self) -> None:
        self.growth = 0
        self._peak = self._baseline = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self._peak = max(self._peak, _rss())

    def __enter__(self) -> _RssGrowth:
        self._peak = self._baseline = _rss()
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join(5)
        self.growth = self._peak - self._baseline


@pytest.mark.skipif(not STATM.is_file(), reason="needs /proc/self/statm (Linux)")
def test_a_50_mb_bijlage_is_downloaded_without_holding_it_in_memory(
    sim: Simulator, dka: Dka, sim_pki: TestPki
) -> None:
    bericht = melding()
    bericht["bijlagen"] = [{"seed": 7, "size": SIZE, "bestandsnaam": "groot.pdf"}]
    [nummer] = submit(sim, bericht)
    refs = body_json(get(sim, sim_pki, "gemeente",
                         f"{sim.api_url('afhandelen')}/verzoeken/{nummer}"))
    [link] = refs["_links"]["documenten"]
    url = urlsplit(link["href"])
    context = sim_pki.identity("gemeente").client_context(sim.trust_anchors)
    digest, received = hashlib.sha256(), 0
    with _RssGrowth() as rss:
        connection = http.client.HTTPSConnection(url.hostname or "", url.port,
                                                 context=context, timeout=60)
        try:
            connection.request("GET", url.path)
            answer = connection.getresponse()
            assert answer.status == 200
            assert int(answer.getheader("Content-Length") or 0) == SIZE
            deadline = time.monotonic() + 120
            while chunk := answer.read(64 * 1024):
                digest.update(chunk)
                received += len(chunk)
                assert time.monotonic() < deadline
        finally:
            connection.close()
    assert received == SIZE
    expected = hashlib.sha256()
    for chunk in BijlageSpec(7, SIZE, "groot.pdf").chunks():
        expected.update(chunk)
    assert digest.hexdigest() == expected.hexdigest()
    growth = rss.growth
    assert growth < SIZE // 4, f"RSS grew {growth / 1e6:.1f} MB for a {SIZE / 1e6:.0f} MB download"


def test_an_uploaded_bijlage_is_spooled_to_a_file_in_the_store_folder(
    sim: Simulator, dka: Dka, sim_pki: TestPki
) -> None:
    content = os.urandom(300_000)
    client = HttpClient.for_identity(None, sim.trust_anchors)
    headers = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    base = sim.api_url("indienen")
    started = client.post(f"{base}/verzoeken", json.dumps(melding()).encode(), headers=headers)
    verzoek_id = body_json(started)["verzoekId"]
    uploaded = client.post(f"{base}/verzoeken/{verzoek_id}/documenten?bestandsnaam=a.pdf",
                           content, headers={**headers, "Content-Type": "application/pdf"})
    assert uploaded.status == 201, uploaded.response_body
    assert sim.store.path is not None
    spooled = list((sim.store.path.parent / "uploads").glob("*.upload"))
    assert len(spooled) == 1
    assert spooled[0].read_bytes() == content
    done = client.post(f"{base}/verzoeken/{verzoek_id}", b"{}", headers=headers)
    [nummer] = body_json(done)["verzoeknummers"]
    [bijlage] = [b for b in sim.store.get_verzoek(nummer).verzoek.bijlagen  # type: ignore[union-attr]
                 if b.bestandsnaam == "a.pdf"]
    assert bijlage.sha256 == hashlib.sha256(content).hexdigest()
    stored = sim.store.get_document(bijlage.document_id)
    assert stored is not None
    assert stored.path == spooled[0]
    assert stored.data is None  # not a copy in the database
    refs = body_json(get(sim, sim_pki, "gemeente",
                         f"{sim.api_url('afhandelen')}/verzoeken/{nummer}"))
    [link] = [d for d in refs["_links"]["documenten"] if d["title"] == "a.pdf"]
    assert get(sim, sim_pki, "gemeente", link["href"]).response_body == content


def _uploads(sim: Simulator) -> list[Path]:
    """Every file in the simulator's uploads folder (spooled documents and temporary files)."""
    assert sim.store.path is not None
    return sorted((sim.store.path.parent / "uploads").iterdir())


def _tls(sim: Simulator) -> ssl.SSLContext:
    """A client context that trusts only the simulator's test CA (no client certificate;
    the system CAs, which cost about 30 ms to load, are not needed on loopback)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    context.load_verify_locations(cadata="".join(
        c.public_bytes(serialization.Encoding.PEM).decode() for c in sim.trust_anchors))
    return context


def _concept(sim: Simulator) -> str:
    client = HttpClient.for_identity(None, sim.trust_anchors)
    started = client.post(f"{sim.api_url('indienen')}/verzoeken", json.dumps(melding()).encode(),
                          headers={"x-api-key": sim.api_key, "Content-Type": "application/json"})
    assert started.status == 201, started.response_body
    return str(body_json(started)["verzoekId"])


def _upload(sim: Simulator, verzoek_id: str, body: bytes | Iterator[bytes],
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    url = urlsplit(f"{sim.api_url('indienen')}/verzoeken/{verzoek_id}/documenten"
                   "?bestandsnaam=groot.pdf")
    connection = http.client.HTTPSConnection(url.hostname or "", url.port, context=_tls(sim),
                                             timeout=120)
    try:
        connection.request("POST", f"{url.path}?{url.query}", body=body, headers={
            "x-api-key": sim.api_key, "Content-Type": "application/pdf", **(headers or {})})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def _wait_until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def big_sim(sim_pki: TestPki, tmp_path: Path, dka: Dka) -> Iterator[Simulator]:
    """A simulator that takes documents of up to 64 MB."""
    simulator = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka, quotas=Quotas(
        max_document=64 * 1024 * 1024, max_concept_bytes=128 * 1024 * 1024))
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.mark.skipif(not STATM.is_file(), reason="needs /proc/self/statm (Linux)")
def test_a_50_mb_upload_is_streamed_to_disk_without_holding_it_in_memory(
    big_sim: Simulator
) -> None:
    sim = big_sim
    verzoek_id = _concept(sim)
    block = os.urandom(1024 * 1024)
    sent = hashlib.sha256()

    def blocks() -> Iterator[bytes]:
        for n in range(SIZE // len(block)):
            piece = block[n:] + block[:n]  # 50 different blocks, 1 MB each
            sent.update(piece)
            yield piece

    with _RssGrowth() as rss:
        status, answer = _upload(sim, verzoek_id, blocks(), {"Content-Length": str(SIZE)})
    assert status == 201, answer
    assert answer["grootte"] == SIZE
    growth = rss.growth
    assert growth < SIZE // 4, f"RSS grew {growth / 1e6:.1f} MB for a {SIZE / 1e6:.0f} MB upload"
    [stored] = _uploads(sim)
    assert stored.suffix == ".upload"
    assert stored.stat().st_size == SIZE
    on_disk = hashlib.sha256()
    with stored.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            on_disk.update(chunk)
    assert on_disk.hexdigest() == sent.hexdigest()
    client = HttpClient.for_identity(None, sim.trust_anchors)
    done_answer = client.post(f"{sim.api_url('indienen')}/verzoeken/{verzoek_id}", b"{}",
                              headers={"x-api-key": sim.api_key,
                                       "Content-Type": "application/json"})
    [nummer] = body_json(done_answer)["verzoeknummers"]
    [bijlage] = [b for b in sim.store.get_verzoek(nummer).verzoek.bijlagen  # type: ignore[union-attr]
                 if b.bestandsnaam == "groot.pdf"]
    assert bijlage.sha256 == sent.hexdigest()
    assert bijlage.size == SIZE


def test_a_chunked_upload_is_streamed_and_stored(sim: Simulator) -> None:
    verzoek_id = _concept(sim)
    parts = [os.urandom(n) for n in (10, 200_000, 65_536, 3)]
    status, answer = _upload(sim, verzoek_id, iter(parts))  # no length: chunked
    assert status == 201, answer
    assert answer["grootte"] == sum(map(len, parts))
    [stored] = _uploads(sim)
    assert stored.read_bytes() == b"".join(parts)


def test_an_oversized_upload_gets_413_and_leaves_no_file(
    sim_pki: TestPki, tmp_path: Path
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None,
                    quotas=Quotas(max_document=100_000))
    try:
        verzoek_id = _concept(sim)
        status, answer = _upload(sim, verzoek_id, b"x" * 100_001)
        assert status == 413
        assert "100000 bytes" in answer["detail"]
        assert "max_document" in answer["detail"]
        status, answer = _upload(sim, verzoek_id, iter([b"x" * 60_000] * 4))
        assert status == 413, answer  # chunked: refused while it arrives
        assert _uploads(sim) == []
        # without the API key nothing goes to disk: the body is not streamed (so no 413 from
        # the stream's limit) and the API answers 401
        status, answer = _upload(sim, verzoek_id, b"x" * 100_001, {"x-api-key": "wrong"})
        assert status == 401, answer
        assert _uploads(sim) == []
        status, answer = _upload(sim, verzoek_id, b"x" * 100_000)
        assert status == 201, answer
    finally:
        sim.stop()


def test_a_connection_dropped_mid_upload_leaves_no_file(sim: Simulator) -> None:
    verzoek_id = _concept(sim)
    url = urlsplit(f"{sim.api_url('indienen')}/verzoeken/{verzoek_id}/documenten")
    raw = socket.create_connection((url.hostname or "", url.port or 0), timeout=5)
    sock = _tls(sim).wrap_socket(raw, server_hostname=url.hostname)
    try:
        sock.sendall(f"POST {url.path} HTTP/1.1\r\nHost: x\r\nx-api-key: {sim.api_key}\r\n"
                     "Content-Type: application/pdf\r\nContent-Length: 5000000\r\n\r\n"
                     .encode())
        sock.sendall(b"a" * 500_000)
        assert _wait_until(lambda: any(p.name.startswith(".spool-") for p in _uploads(sim)))
    finally:
        sock.close()
    assert _wait_until(lambda: _uploads(sim) == [])
    assert sim.services.concept(verzoek_id) is not None
    assert sim.services.concept(verzoek_id).documenten == ()  # type: ignore[union-attr]


def test_a_submission_that_fails_deletes_its_spooled_uploads(
    sim_pki: TestPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None)  # no CPA: nothing can be sent
    client = HttpClient.for_identity(None, sim.trust_anchors)
    headers = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    try:
        unsendable = _concept(sim)
        assert _upload(sim, unsendable, b"a" * 5000)[0] == 201
        assert len(_uploads(sim)) == 1
        answer = client.post(f"{sim.api_url('indienen')}/verzoeken/{unsendable}", b"{}",
                             headers=headers)
        assert answer.status == 503, answer.response_body
        assert _uploads(sim) == []

        refused = _concept(sim)
        assert _upload(sim, refused, b"b" * 5000)[0] == 201
        assert len(_uploads(sim)) == 1

        def unsubmittable(*args: object, **kwargs: object) -> object:
            raise SubmissionError("the verzoek cannot be submitted")

        monkeypatch.setattr(services, "submit", unsubmittable)
        answer = client.post(f"{sim.api_url('indienen')}/verzoeken/{refused}", b"{}",
                             headers=headers)
        assert answer.status == 422, answer.response_body
        assert _uploads(sim) == []
    finally:
        sim.stop()


def test_a_restart_removes_what_a_killed_run_left_in_the_uploads_folder(
    sim: Simulator, sim_pki: TestPki, dka: Dka
) -> None:
    client = HttpClient.for_identity(None, sim.trust_anchors)
    headers = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    submitted, left_open = _concept(sim), _concept(sim)
    content = os.urandom(5000)
    assert _upload(sim, submitted, content)[0] == 201
    assert _upload(sim, left_open, b"o" * 5000)[0] == 201
    done = client.post(f"{sim.api_url('indienen')}/verzoeken/{submitted}", b"{}",
                       headers=headers)
    assert done.status == 200, done.response_body
    [nummer] = body_json(done)["verzoeknummers"]
    [bijlage] = [b for b in sim.store.get_verzoek(nummer).verzoek.bijlagen  # type: ignore[union-attr]
                 if b.bestandsnaam == "groot.pdf"]
    stored = sim.store.get_document(bijlage.document_id)
    assert stored is not None
    assert stored.path is not None
    assert sim.store.path is not None
    folder = sim.store.path.parent / "uploads"
    (folder / ".spool-0123.part").write_bytes(b"half a body")  # as a kill -9 leaves it
    assert len(_uploads(sim)) == 3
    store = sim.store.path
    sim.stop()
    again = start_sim(sim_pki, store, dka)
    try:
        assert _uploads(again) == [stored.path]  # the open concept died with the process
        assert stored.path.read_bytes() == content
    finally:
        again.stop()
