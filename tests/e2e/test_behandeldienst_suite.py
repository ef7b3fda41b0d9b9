"""The behandeldienst suite with several bevoegde gezagen behind one certificate: each stored
configuration is judged once, so none is reported as overlapping with itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso.pkio.testpki import test_oin

SUITE = Path(__file__).parents[2] / "suites" / "test_behandeldienst.py"


def test_one_configuration_listed_for_many_tenants_is_no_duplicate(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_behandeldienst=SUITE.read_text(encoding="utf-8"))
    tenants = [("00000099000000101000", "TEST Gemeente Oefenstad", "gemeente"),
               ("00000099000000201000", "TEST Omgevingsdienst Oefenregio", "omgevingsdienst")]
    tenants += [(test_oin(10_000 + n), f"TEST Gemeente {n:03d}", "gemeente") for n in range(3)]
    pytester.makefile(".toml", dso="\n".join(
        f'[[bevoegd_gezag]]\noin = "{oin}"\nname = "{name}"\ntype = "{kind}"\n'
        + ('behandeldiensten = ["00000099000000201000"]\n' if n == 0 else "")
        for n, (oin, name, kind) in enumerate(tenants)))
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local",
                                "--dso-config=dso.toml", "-k", "zonder_overlap", "-rA")
    result.assert_outcomes(passed=1)
    assert "routing.duplicate" not in result.stdout.str()
