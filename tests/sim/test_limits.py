"""Bounds of the simulator in one settings section: ``[simulator.limits]`` and ``dso-sim serve
--limit``; a limit answers with a clear 413/429 while a legitimate client is still served."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sim_helpers import body_json, melding, start_sim

from pytest_dso.cli.sim import main
from pytest_dso.dsofile import parse_dso_toml
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.config import LimitError, Quotas, SimOptions, parse_limits
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpClient, HttpExchange
from pytest_dso.transport.server import Limits


def test_limits_by_name_go_to_the_connection_limits_and_the_quotas() -> None:
    limits, quotas = parse_limits({"idle_timeout": 5, "max_connections": "32",
                                   "max_concepts_per_client": 3, "concept_lifetime": 60})
    assert limits == Limits(idle_timeout=5.0, max_connections=32)
    assert quotas == Quotas(max_concepts_per_client=3, concept_lifetime=60.0)
    with pytest.raises(LimitError, match=r"'max_concept' is not a limit; known: .*max_concepts"):
        parse_limits({"max_concept": 1})
    for bad in (0, -1, True, "many", float("inf"), 2.5):
        with pytest.raises(LimitError, match="max_document"):
            parse_limits({"max_document": bad})


def test_dso_toml_simulator_limits_reach_the_simulator_options() -> None:
    file = parse_dso_toml('[simulator.limits]\nmax_document = 1000\nbody_timeout = 5\n')
    options = SimOptions.from_dso_file(file)
    assert options.quotas.max_document == 1000
    assert options.limits.body_timeout == 5.0


def test_dso_sim_serve_refuses_an_unknown_limit(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--output", str(tmp_path), "--limit", "max_concepts_per_klant=1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--limit 'max_concepts_per_klant' is not a limit" in err
    assert "Traceback" not in err


def _post(sim: Simulator, path: str, body: bytes, identity: object = None,
          content_type: str = "application/json") -> HttpExchange:
    client = HttpClient.for_identity(identity, sim.trust_anchors)  # type: ignore[arg-type]
    return client.post(f"{sim.api_url('indienen')}/{path}", body,
                       headers={"x-api-key": sim.api_key, "Content-Type": content_type})


def test_concepts_per_client_and_document_size_are_enforced_and_others_still_served(
    sim_pki: TestPki, tmp_path: Path
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None,
                    quotas=Quotas(max_concepts_per_client=2, max_document=1000))
    try:
        bericht = json.dumps(melding()).encode()
        first = _post(sim, "verzoeken", bericht)
        assert first.status == 201, first.response_body
        assert _post(sim, "verzoeken", bericht).status == 201
        refused = _post(sim, "verzoeken", bericht)
        assert refused.status == 429
        problem = body_json(refused)
        assert "2 open concepts (the limit per client)" in problem["detail"]
        assert problem["retry_after"] == 60
        started = time.monotonic()  # another client (its own certificate) is still served
        other = _post(sim, "verzoeken", bericht, sim_pki.identity("gemeente"))
        assert other.status == 201, other.response_body
        assert time.monotonic() - started < 1.0
        verzoek_id = body_json(first)["verzoekId"]
        big = _post(sim, f"verzoeken/{verzoek_id}/documenten", b"x" * 1001,
                    content_type="application/pdf")
        assert big.status == 413
        assert "max_document" in body_json(big)["detail"]
        small = _post(sim, f"verzoeken/{verzoek_id}/documenten", b"x" * 1000,
                      content_type="application/pdf")
        assert small.status == 201
    finally:
        sim.stop()


@pytest.mark.parametrize("entry", ["max_concepts_per_clint = 5", "max_concepts_per_client = -1"])
def test_a_bad_dso_toml_limit_stops_the_run_before_any_test(
    pytester: pytest.Pytester, entry: str
) -> None:
    pytester.makefile(".toml", dso=f"[simulator.limits]\n{entry}\n")
    pytester.makepyfile(test_it="def test_it():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "test_it.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest-dso: [[]simulator.limits[]]*dso.toml*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
