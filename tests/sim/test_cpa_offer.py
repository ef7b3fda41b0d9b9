"""PRE 2.4 "CPA inladen": ``dso-cpa offer`` and the write-guarded suite test offer the CPA
through the simulator's CPA aanbieden and keep the response as evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_dso.cli.cpa import main
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.identities import test_pki_in
from pytest_dso.sim.server import Simulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Simulator]]:
    """A running simulator and a PRE dso.toml whose [ebms] cpa is a new CPA for it."""
    ids = test_pki_in(tmp_path / "certs")
    with Simulator(SimOptions(), ids, tmp_path / "store.sqlite") as sim:
        cpa = sim.local_cpa("https://127.0.0.1:18999/ebms")
        (tmp_path / "cpa.xml").write_bytes(cpa)
        certs = tmp_path / "certs"
        (tmp_path / "dso.toml").write_text(
            '[dso]\nenv = "pre"\noutput = "out"\n\n'
            f'[certificate]\ncert = "{certs / "digikoppelaar.pem"}"\n'
            f'key = "{certs / "digikoppelaar.key.pem"}"\nca_bundle = "{certs / "root.pem"}"\n\n'
            '[ebms]\ncpa = "cpa.xml"\n\n'
            f'[api.base_urls]\ncpa_aanbieden = "{sim.api_base_urls["cpa_aanbieden"]}"\n',
            encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        for name in ("DSO_ENV", "DSO_CONFIG", "DSO_ALLOW_WRITES", "DSO_OUTPUT"):
            monkeypatch.delenv(name, raising=False)
        yield tmp_path, sim


def test_offer_needs_writes_allowed(project: tuple[Path, Simulator],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder, _sim = project
    assert main(["offer", "--config", "dso.toml"]) == 2
    assert "--allow-writes" in capsys.readouterr().err
    assert not (folder / "out").exists()


def test_offer_loads_the_cpa_and_keeps_the_response_as_evidence(
    project: tuple[Path, Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, sim = project
    cpa_id = parse_cpa((folder / "cpa.xml").read_bytes()).cpa_id
    assert main(["offer", "--config", "dso.toml", "--allow-writes"]) == 0
    out = capsys.readouterr().out
    assert "cpa.offer.accepted" in out
    evidence = json.loads((folder / "out" / "cpa-aanbieden-pre.json").read_text())
    assert (evidence["status"], evidence["accepted"], evidence["cpaId"]) == (201, True, cpa_id)
    assert cpa_id in {c.cpa_id for c in sim.cpas.all()}  # the simulator has it now


def test_a_refused_cpa_is_reported_with_its_answer(
    project: tuple[Path, Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _sim = project
    # offered with the waterschap's certificate, which holds no mandate for this CPA's party
    toml = (folder / "dso.toml").read_text()
    (folder / "dso.toml").write_text(toml.replace("digikoppelaar.", "waterschap."))
    assert main(["offer", "--config", "dso.toml", "--allow-writes"]) == 1
    assert "cpa.offer.refused" in capsys.readouterr().out
    evidence = json.loads((folder / "out" / "cpa-aanbieden-pre.json").read_text())
    assert evidence["status"] == 403
    assert not evidence["accepted"]


def test_the_suite_offers_the_cpa_in_local_mode_and_proves_pre_2_4(
    pytester: pytest.Pytester,
) -> None:
    for name in ("test_cpa_aanbieden", "test_aansluitproces"):
        pytester.makepyfile(**{name: (ROOT / "suites" / f"{name}.py").read_text()})
    pytester.makeconftest(
        "import pytest\nfrom pytest_dso.pkio.testpki import build_test_pki\n\n"
        "@pytest.fixture(scope='session')\ndef dso_test_pki():\n"
        "    return build_test_pki(key_type='ec256')\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA", "-k",
                                           "aangeboden or PRE-2.4")
    result.assert_outcomes(passed=2)
