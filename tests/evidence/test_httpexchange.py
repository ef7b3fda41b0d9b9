"""The Allure HTTP exchange document: schema, redaction marker, truncation."""

from __future__ import annotations

import base64
import http.server
import json
import random
import threading
from collections.abc import Iterator

import pytest

from pytest_dso.evidence.httpexchange import (
    BINARY_BODY_LIMIT,
    DEFAULT_BODY_LIMIT,
    RecordedExchange,
    as_exchange,
    exchange_document,
    exchange_json,
)
from pytest_dso.evidence.redaction import ALLURE_REDACTED, REDACTED, Redactor


def _exchange(**overrides: object) -> RecordedExchange:
    values: dict[str, object] = {
        "method": "POST",
        "url": "https://dso.example/api/v2/verzoeken?api_key=K-0001&page=2",
        "request_headers": (
            ("Authorization", "Bearer TOKEN-9999"),
            ("x-api-key", "K-0001"),
            ("Cookie", "sid=abc; theme=dark"),
            ("Content-Type", "application/xml"),
        ),
        "request_body": "<v><bsn>123456782</bsn></v>",
        "status": 201,
        "status_text": "Created",
        "response_headers": (("Set-Cookie", "sid=new; Path=/"), ("Content-Type", "text/plain")),
        "response_body": b"ok",
        "start": 1700000000.0,
        "stop": 1700000000.25,
    }
    values.update(overrides)
    return RecordedExchange(**values)  # type: ignore[arg-type]


def test_document_follows_schema_version_1_and_masks_sensitive_fields() -> None:
    doc = exchange_document(_exchange(), Redactor())
    assert doc["schemaVersion"] == 1
    assert (doc["start"], doc["stop"]) == (1700000000000, 1700000000250)
    request, response = doc["request"], doc["response"]
    headers = {h["name"]: h["value"] for h in request["headers"]}
    assert headers["Authorization"] == ALLURE_REDACTED
    assert headers["x-api-key"] == ALLURE_REDACTED
    assert headers["Cookie"] == ALLURE_REDACTED
    assert headers["Content-Type"] == "application/xml"
    assert request["cookies"] == [
        {"name": "sid", "value": ALLURE_REDACTED},
        {"name": "theme", "value": ALLURE_REDACTED},
    ]
    assert request["query"] == [
        {"name": "api_key", "value": ALLURE_REDACTED},
        {"name": "page", "value": "2"},
    ]
    assert request["url"] == f"https://dso.example/api/v2/verzoeken?api_key={REDACTED}&page=2"
    assert request["body"]["value"] == f"<v><bsn>{REDACTED}</bsn></v>"
    assert request["body"]["encoding"] == "utf8"
    assert response["status"] == 201
    assert response["cookies"] == [{"name": "sid", "value": ALLURE_REDACTED}]
    text = json.dumps(doc)
    for secret in ("TOKEN-9999", "K-0001", "sid=abc", "123456782"):
        assert secret not in text


def test_large_bodies_are_truncated_with_size() -> None:
    doc = exchange_document(_exchange(response_body=b"x" * 5000), Redactor(), body_limit=1000)
    body = doc["response"]["body"]
    assert body["truncated"] is True
    assert body["size"] == 5000
    assert len(body["value"]) == 1000


def test_binary_bodies_are_base64() -> None:
    doc = exchange_document(_exchange(response_body=b"\x89PNG\xff\x00"), Redactor())
    body = doc["response"]["body"]
    assert body["encoding"] == "base64"
    assert base64.b64decode(body["value"]) == b"\x89PNG\xff\x00"


def test_binary_bodies_keep_their_first_4_kib_and_their_size() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 512  # 128 KiB and a bit
    doc = exchange_document(_exchange(response_body=pdf), Redactor())
    body = doc["response"]["body"]
    assert body["encoding"] == "base64"
    assert (body["size"], body["truncated"]) == (len(pdf), True)
    assert base64.b64decode(body["value"]) == pdf[:BINARY_BODY_LIMIT] == pdf[:4096]
    # a text body of the same size keeps the text limit
    text = exchange_document(_exchange(response_body=b"y" * len(pdf)), Redactor())
    assert len(text["response"]["body"]["value"]) == DEFAULT_BODY_LIMIT
    # a small binary body is kept whole
    small = exchange_document(_exchange(response_body=pdf[:BINARY_BODY_LIMIT]), Redactor())
    assert small["response"]["body"]["truncated"] is False


def test_a_cut_text_body_drops_only_a_split_character() -> None:
    # "é" is two bytes: a limit between them leaves one invalid byte, which is dropped
    body = ("a" * 9 + "é" + "b" * 100).encode("utf-8")
    doc = exchange_document(_exchange(response_body=body), Redactor(), body_limit=10)
    shown = doc["response"]["body"]
    assert (shown["encoding"], shown["value"], shown["truncated"]) == ("utf8", "a" * 9, True)
    # a text with a few stray bytes is still text; more than three make it binary
    stray = b"abc\xffdef\xfe" + b"g" * 50
    assert exchange_document(_exchange(response_body=stray), Redactor(), body_limit=20)[
        "response"]["body"]["value"] == "abcdef" + "g" * 12
    many = b"\xff\xfe\xfd\xfc" + b"g" * 50
    assert exchange_document(_exchange(response_body=many), Redactor(), body_limit=20)[
        "response"]["body"]["encoding"] == "base64"


@pytest.mark.parametrize("seed", range(4))
def test_a_cut_body_is_text_exactly_when_at_most_three_bytes_are_invalid(seed: int) -> None:
    rng = random.Random(seed)
    pieces = [b"plain ", "ëï€𝄞".encode(), b"\xff", b"\xc3", b"\xe2\x82", b"\x80", b"\x00"]
    for _ in range(300):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) + b"!" * 40
        limit = rng.randint(1, len(body) - 1)
        kept = body[:limit]
        loose = kept.decode("utf-8", "ignore")
        as_text = len(loose.encode("utf-8")) >= len(kept) - 3
        shown = exchange_document(_exchange(response_body=body), Redactor(),
                                  body_limit=limit)["response"]["body"]
        if as_text and (loose or not kept):
            assert (shown["encoding"], shown["value"]) == ("utf8", loose), kept
        else:
            assert shown["encoding"] == "base64", kept


def test_an_error_instead_of_a_response() -> None:
    exchange = _exchange(status=None, response_headers=(), response_body=None, error="timed out")
    doc = exchange_document(exchange, Redactor())
    assert "response" not in doc
    assert doc["error"]["message"] == "timed out"


def test_repr_hides_headers_and_query() -> None:
    assert "TOKEN" not in repr(_exchange())
    assert "K-0001" not in repr(_exchange())


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<pong/>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Set-Cookie", "session=s3cr3t-cookie")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def http_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    # a short poll interval: shutdown() waits up to one interval for the loop to notice
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_real_requests_response_is_recorded(http_url: str) -> None:
    import requests  # only here: no other self-test needs its import time

    response = requests.get(
        f"{http_url}/ping?token=TKN-55555", headers={"x-api-key": "KEY-77777"}, timeout=5
    )
    recorded = as_exchange(response)
    assert recorded.method == "GET"
    assert recorded.status == 200
    text = exchange_json(response, Redactor())
    doc = json.loads(text)
    assert doc["response"]["body"]["value"] == "<pong/>"
    for secret in ("TKN-55555", "KEY-77777", "s3cr3t-cookie"):
        assert secret not in text


def test_unknown_objects_are_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="no method and url"):
        as_exchange(object())


def test_the_transport_exchange_is_recorded_with_its_failure() -> None:
    from pytest_dso.findings import error
    from pytest_dso.transport.client import HttpExchange

    ok = HttpExchange(
        method="GET",
        url="https://127.0.0.1:8443/verzoeken/1?api_key=K-1234",
        request_headers=(("x-api-key", "K-1234"),),
        request_body=b"",
        started=1700000000.0,
        stopped=1700000000.5,
        duration=0.5,
        status=200,
        reason="OK",
        response_headers=(("Content-Type", "application/json"),),
        response_body=b'{"bsn": "123456782"}',
    )
    doc = exchange_document(as_exchange(ok), Redactor())
    assert doc["response"]["status"] == 200
    assert doc["response"]["statusText"] == "OK"
    assert doc["stop"] - doc["start"] == 500
    assert doc["request"]["headers"] == [{"name": "x-api-key", "value": ALLURE_REDACTED}]
    assert "123456782" not in json.dumps(doc)
    failed = HttpExchange(
        method="GET",
        url="https://127.0.0.1:8443/",
        request_headers=(),
        request_body=b"",
        started=1700000000.0,
        stopped=1700000001.0,
        duration=1.0,
        failure=error("tls.client_cert.required", "the server asked for a client certificate"),
    )
    doc = exchange_document(as_exchange(failed), Redactor())
    assert "response" not in doc
    assert doc["error"] == {
        "name": "tls.client_cert.required",
        "message": "the server asked for a client certificate",
    }
