"""The guides a message refers to are files the user has, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso import guides
from pytest_dso.guides import guide
from pytest_dso.pkio.chain import check_chain
from pytest_dso.pkio.testpki import build_hierarchy


@pytest.mark.parametrize("name", ["rehearsal.md", "evidence.md", "simulator.md",
                                  "unknowns.md"])
def test_each_guide_is_a_file(name: str) -> None:
    assert Path(guide(name)).is_file()


def test_the_installed_copy_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "pytest_dso"
    (package / "docs").mkdir(parents=True)
    (package / "docs" / "rehearsal.md").write_text("# installed\n", encoding="utf-8")
    monkeypatch.setattr(guides, "_HERE", package)
    assert guide("rehearsal.md") == str(package / "docs" / "rehearsal.md")
    # a guide that is nowhere is named, not given a path that does not exist
    assert guide("nothing.md") == "docs/nothing.md of pytest-dso"


def test_a_hint_names_the_guide_by_its_path() -> None:
    leaf = build_hierarchy("hint", key_type="ec256").tsp
    findings = check_chain(leaf.certificate, list(leaf.issuers), require_pkio_root=True)
    hints = [f.hint for f in findings if f.check == "pkio.chain.not_pkio_root"]
    assert hints
    assert guide("rehearsal.md") in hints[0]
