"""Bounded fuzz tests: every parser that reads outside input raises only its own error type
(a verdict), never anything else, for arbitrary input, including JSON-shaped input."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_dso import jsonsafe
from pytest_dso.dso.shapes import BehandeldienstConfiguratie, Indienbericht, ShapeError, ZoekVraag
from pytest_dso.ebms import mime
from pytest_dso.ebms.cpa import CpaError, parse_cpa
from pytest_dso.ebms.envelope import EnvelopeError, parse_envelope
from pytest_dso.sim.faults import FaultError, parse_faults

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=30,
)

#: Keys the shapes look for, so the fuzzer reaches past the first check.
KEYS = ["type", "naam", "activiteiten", "activiteit", "bevoegdGezag", "oin", "bijlagen", "seed",
        "size", "periode", "van", "tot", "polygoon", "coordinates", "kind", "count", "scope",
        "seconds", "mode", "behandeldienstOin", "specificaties", "vraagId", "antwoord"]
shaped = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                max_size=6),
    max_leaves=40,
)


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_jsonsafe_raises_only_its_limit_error(data: bytes) -> None:
    with contextlib.suppress(jsonsafe.JsonLimitError):
        jsonsafe.loads(data)


@FUZZ
@given(json_values)
def test_jsonsafe_reads_what_json_writes(value: Any) -> None:
    assert jsonsafe.loads(json.dumps(value)) == value


@pytest.mark.parametrize("parse", [Indienbericht.from_json, ZoekVraag.from_json,
                                   BehandeldienstConfiguratie.from_json],
                         ids=["indienbericht", "zoek", "behandeldienstconfiguratie"])
@FUZZ
@given(shaped)
def test_shapes_raise_only_shape_error(parse: Any, value: Any) -> None:
    with contextlib.suppress(ShapeError):
        parse(value)


@FUZZ
@given(shaped)
def test_faults_raise_only_fault_error(value: Any) -> None:
    with contextlib.suppress(FaultError):
        parse_faults(value)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["text/xml", "multipart/related; "
                                                 "boundary=x; type=\"text/xml\"", "", "x/y"]))
def test_mime_and_envelope_raise_only_envelope_errors(body: bytes, content_type: str) -> None:
    try:
        envelope, attachments = mime.unpack(content_type, body)
        parse_envelope(envelope, tuple(attachments.values()))
    except EnvelopeError:
        pass


@FUZZ
@given(st.binary(max_size=400))
def test_cpa_parser_raises_only_cpa_error(data: bytes) -> None:
    with contextlib.suppress(CpaError):
        parse_cpa(data)
