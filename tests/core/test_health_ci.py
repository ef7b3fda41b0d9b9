"""Health for CI: a DSO warning (a certificate that expires soon) shows in the JUnit XML under
every junit_family, ``--dso-fail-on=warning`` fails the test, and no record_property warning."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.testpki import LeafSpec, build_hierarchy, test_oin

ROOT = Path(__file__).resolve().parents[2]
OIN = test_oin(778)
TEST = "test_pkio.py::test_certificate_is_valid_now"


@pytest.fixture
def expiring_soon(pytester: pytest.Pytester) -> None:
    """The pkio suite with a certificate that expires in 10 days (warning threshold 30)."""
    hierarchy = build_hierarchy("health", key_type="ec256")
    now = dt.datetime.now(dt.UTC)
    issued = hierarchy.issue(LeafSpec(common_name="adapter.test.localhost", oin=OIN,
                                      key_type="ec256", not_before=now - dt.timedelta(days=300),
                                      not_after=now + dt.timedelta(days=10)))
    pytester.makepyfile(test_pkio=(ROOT / "suites" / "test_pkio.py").read_text())
    files = {
        "cert.pem": certificates_pem([issued.certificate]),
        "key.pem": issued.key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()),
        "chain.pem": certificates_pem(issued.issuers[:-1]),
        "ca.pem": certificates_pem(hierarchy.anchors),
    }
    for name, data in files.items():
        pytester.path.joinpath(name).write_bytes(data)
    pytester.path.joinpath("dso.toml").write_text(
        f'[leverancier]\noin = "{OIN}"\nname = "TEST leverancier"\n\n'
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nchain = "chain.pem"\n'
        'ca_bundle = "ca.pem"\nexpiry_warning_days = 30\n')


def _junit(pytester: pytest.Pytester, family: str, *args: str) -> tuple[ET.Element, str]:
    junit = pytester.path / f"{family}.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--junitxml={junit}", "-o", f"junit_family={family}",
        "-W", "error::pytest.PytestWarning", *args)
    assert junit.exists(), result.stdout.str()
    return ET.parse(junit).getroot(), result.stdout.str()  # noqa: S314 - our own report


def _case(root: ET.Element, name: str) -> ET.Element:
    return next(c for c in root.iter("testcase") if c.get("name") == name)


@pytest.mark.usefixtures("expiring_soon")
def test_an_expiring_certificate_shows_in_the_junit_xml_under_xunit2(
    pytester: pytest.Pytester,
) -> None:
    root, output = _junit(pytester, "xunit2", f"--alluredir={pytester.path / 'allure'}")
    case = _case(root, "test_certificate_is_valid_now")
    assert case.find("failure") is None, output  # a warning does not fail by default
    assert case.find("properties") is None  # xunit2 test cases hold no properties
    warnings = [p.get("value", "") for p in root.iter("property")
                if p.get("name") == "dso_warning"]
    assert any(w.startswith(TEST) and "expires" in w for w in warnings), (warnings, output)
    # Allure: the test is labelled and tagged with its warning
    results = [json.loads(f.read_text()) for f in (pytester.path / "allure").glob("*-result.json")]
    (result,) = [r for r in results if r["name"] == "test_certificate_is_valid_now"]
    labels = {(x["name"], x["value"]) for x in result["labels"]}
    assert ("tag", "dso-warning") in labels
    assert any(n == "dso_warning" and "expires" in v for n, v in labels)


def test_the_suites_record_properties_without_a_warning_under_xunit2(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_e2e=(ROOT / "suites" / "test_e2e.py").read_text())
    root, output = _junit(pytester, "xunit2", "--dso-tenant", "00000099000000102000")
    assert "record_property" not in output
    assert not [c for c in root.iter("testcase") if c.find("failure") is not None or
                c.find("error") is not None], output
    names = {p.get("name") for p in root.iter("property")}
    assert "dso_verzoeknummer" in names


@pytest.mark.usefixtures("expiring_soon")
def test_an_expiring_certificate_is_a_test_case_property_under_xunit1(
    pytester: pytest.Pytester,
) -> None:
    root, output = _junit(pytester, "xunit1")
    case = _case(root, "test_certificate_is_valid_now")
    values = [p.get("value", "") for p in case.iter("property") if p.get("name") == "dso_warning"]
    assert any("expires" in v for v in values), output


@pytest.mark.usefixtures("expiring_soon")
def test_fail_on_warning_turns_the_warning_into_a_failure(pytester: pytest.Pytester) -> None:
    root, output = _junit(pytester, "xunit2", "--dso-fail-on=warning")
    failure = _case(root, "test_certificate_is_valid_now").find("failure")
    assert failure is not None, output
    assert "--dso-fail-on=warning" in (failure.get("message", "") + (failure.text or ""))
    # the other checks had no warning and still pass
    assert _case(root, "test_certificate_loads").find("failure") is None


def test_dso_property_records_on_the_test_it_runs_for(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def tagged(dso_property):
            dso_property("from_fixture", "set-up")

        def test_one(dso_property, tagged):
            dso_property("dso_case", "one")

        def test_two(dso_property):
            dso_property("dso_case", "two")

        def test_three():
            pass
        """
    )
    root, output = _junit(pytester, "xunit1", "--dso-env=local")
    found = {c.get("name"): [(p.get("name"), p.get("value")) for p in c.iter("property")]
             for c in root.iter("testcase")}
    assert found == {"test_one": [("from_fixture", "set-up"), ("dso_case", "one")],
                     "test_two": [("dso_case", "two")], "test_three": []}, output


def test_dso_property_outside_a_test_says_so(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        KEPT = []

        def pytest_sessionfinish(session):
            try:
                KEPT[0]("too_late", "x")
            except RuntimeError as exc:
                session.config.rootpath.joinpath("said.txt").write_text(str(exc))
        """
    )
    pytester.makepyfile(
        "import conftest\n\ndef test_one(dso_property):\n    conftest.KEPT.append(dso_property)\n")
    pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local").assert_outcomes(passed=1)
    said = (pytester.path / "said.txt").read_text()
    assert said.startswith("dso_property('too_late', …) was called while no test ran"), said


def test_the_dso_property_marker_records_also_on_a_test_skipped_before_it_runs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", [
            pytest.param(1, marks=[pytest.mark.dso_property("dso_step", "PRE 3.1"),
                                   pytest.mark.dso_property("dso_step_status", "manual"),
                                   pytest.mark.skip(reason="MANUAL: log in")]),
            pytest.param(2, marks=pytest.mark.dso_property("dso_step", "PRE 3.2")),
        ])
        def test_step(n, dso_property):
            dso_property("ran", n)
        """
    )
    root, output = _junit(pytester, "xunit1", "--dso-env=local")
    found = {c.get("name"): [(p.get("name"), p.get("value")) for p in c.iter("property")]
             for c in root.iter("testcase")}
    assert found == {
        "test_step[1]": [("dso_step", "PRE 3.1"), ("dso_step_status", "manual")],
        "test_step[2]": [("dso_step", "PRE 3.2"), ("ran", "2")],
    }, output


def test_a_dso_property_marker_without_a_value_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.dso_property('dso_step')\ndef test_one():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-env=local")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *::test_one: the dso_property marker takes a name and "
                                 "a value*got ('dso_step',)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
