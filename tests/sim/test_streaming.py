"""Documents from and to disk: a large bijlage is streamed from the store to the client
(downloading 50 MB keeps the simulator's resident set, read from /proc, far below the size),
and an uploaded one is spooled to a file in the store folder, hashed as it is written."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sim_helpers import Dka, body_json, get, melding, submit

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.server import Simulator
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.transport.client import HttpClient

SIZE = 50 * 1024 * 1024
STATM = Path("/proc/self/statm")


def _rss() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


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
    peak = baseline = _rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    digest, received = hashlib.sha256(), 0
    connection = http.client.HTTPSConnection(url.hostname or "", url.port, context=context,
                                             timeout=60)
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
        done.set()
        sampler.join(5)
    assert received == SIZE
    expected = hashlib.sha256()
    for chunk in BijlageSpec(7, SIZE, "groot.pdf").chunks():
        expected.update(chunk)
    assert digest.hexdigest() == expected.hexdigest()
    growth = peak - baseline
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
