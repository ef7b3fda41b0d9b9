"""Fixtures for the simulator tests: a test PKI, a running DKA and a simulator wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import Dka, start_sim

from pytest_dso.cli.sim import main
from pytest_dso.pkio.testpki import TestPki, build_test_pki
from pytest_dso.sim.identities import load_test_pki_folder
from pytest_dso.sim.server import Simulator


@pytest.fixture(scope="session")
def sim_pki() -> TestPki:
    """One EC test PKI for all simulator tests (fast to make)."""
    return build_test_pki(key_type="ec256")


@pytest.fixture
def dka(sim_pki: TestPki) -> Iterator[Dka]:
    """A running DKA (stopped after the test)."""
    dka = Dka(sim_pki)
    dka.receiver.start()
    try:
        yield dka
    finally:
        dka.receiver.stop()


@pytest.fixture
def sim(sim_pki: TestPki, tmp_path: Path, dka: Dka) -> Iterator[Simulator]:
    """A simulator connected to ``dka`` (stopped after the test)."""
    simulator = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """The output folder of a ``dso-sim`` command run by the test."""
    return tmp_path / "dso-sim"


@pytest.fixture
def cli_dka(output: Path) -> Iterator[Dka]:
    """A running DKA with the digikoppelaar certificate ``dso-sim certs`` wrote to
    ``output`` (stopped after the test)."""
    assert main(["certs", "--output", str(output)]) == 0
    ids = load_test_pki_folder(output / "certs")
    dka = Dka(None, identity=ids.party("digikoppelaar"), trust=ids.trust)
    dka.receiver.start()
    try:
        yield dka
    finally:
        dka.receiver.stop()
