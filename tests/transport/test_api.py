"""The shared HTTP values: one ApiResponse, ApiError and Route for client, server and simulator."""

from __future__ import annotations

import pytest

from pytest_dso.transport.api import ApiError, ApiResponse, Route


def _handler(_: object) -> str:
    return "ok"


def test_template_route_matches_one_segment_per_parameter() -> None:
    route = Route.of("get", "/verzoeken/{verzoeknummer}/documenten/{id}", _handler, "x")
    assert route.method == "GET"
    assert route.templated
    assert route.parameters == ("verzoeknummer", "id")
    assert route.match("verzoeken/V1/documenten/7/") == {"verzoeknummer": "V1", "id": "7"}
    assert route.match("verzoeken/V1/documenten") is None
    assert route.match("verzoeken/V1/x/documenten/7") is None


def test_prefix_route_matches_whole_segments_only() -> None:
    route = Route("POST", "/ebms", _handler)
    assert not route.templated
    assert route.parameters == ()
    assert route.matches_path("/ebms")
    assert route.matches_path("/ebms/x")
    assert not route.matches_path("/ebmsx")


def test_response_takes_its_media_type_from_the_header_when_not_given() -> None:
    client = ApiResponse(200, b"{}", headers={"content-type": "Application/HAL+json; q=1"})
    assert client.content_type == "application/hal+json"
    assert client.ok
    assert client.json() == {}
    server = ApiResponse(201, b"<a/>", "application/xml")
    assert server.content_type == "application/xml"
    with pytest.raises(ApiError, match="not JSON") as info:
        server.json()
    assert info.value.status == 201


def test_error_in_its_client_and_its_problem_form() -> None:
    response = ApiResponse(404, b"gone", url="https://127.0.0.1/x")
    with pytest.raises(ApiError, match="HTTP 404 \\(expected 2xx\\)") as info:
        response.expect()
    assert info.value.status == 404
    assert info.value.response is response
    problem = ApiError(413, "Te groot", "at most 1 MB", limit=1)
    assert (problem.status, problem.title, problem.detail) == (413, "Te groot", "at most 1 MB")
    assert problem.extra == {"limit": 1}
    assert problem.response is None
    assert str(problem) == "413 Te groot: at most 1 MB"
