"""Hostile XML is refused before anything is resolved, expanded or fetched."""

from __future__ import annotations

import threading
import time

import pytest

from pytest_dso.xmlsafe import MAX_ELEMENTS, UnsafeXmlError, parse_xml

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
XXE_NETWORK = b"""<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>"""
BILLION_LAUGHS = b"""<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]><r>&d;</r>"""
EXTERNAL_DTD = b"""<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>"""
PARAMETER_ENTITY = b"""<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/hosts"> %p;]><r/>"""


@pytest.mark.parametrize(
    "data",
    [XXE_FILE, XXE_NETWORK, BILLION_LAUGHS, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["xxe-file", "xxe-network", "billion-laughs", "external-dtd", "parameter-entity"],
)
def test_doctype_based_attacks_are_refused_with_a_clear_reason(data: bytes) -> None:
    with pytest.raises(UnsafeXmlError, match="DTDs and entities are refused") as info:
        parse_xml(data, what="ebMS envelope")
    assert "ebMS envelope" in str(info.value)
    assert "root:" not in str(info.value)


def test_undeclared_entity_is_not_well_formed() -> None:
    with pytest.raises(UnsafeXmlError, match="not well-formed"):
        parse_xml(b"<r>&x;</r>")


@pytest.mark.parametrize("data", [b"", b"  \n", "<r>", b"<a></b>"])
def test_empty_and_broken_documents_get_a_verdict(data: bytes | str) -> None:
    with pytest.raises(UnsafeXmlError, match=r"the STAM XML is (empty|not well-formed)"):
        parse_xml(data, what="STAM XML")


def test_well_formed_documents_parse_in_many_threads() -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                results.append(parse_xml(f"<r n='{n}-{i}'><c/></r>").get("n") or "")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(results) == sorted(f"{n}-{i}" for n in range(4) for i in range(50))


def test_a_flood_of_empty_elements_is_refused_before_a_tree_is_built() -> None:
    flood = b"<a>" + b"<b/>" * (2 * MAX_ELEMENTS + 100) + b"</a>"
    started = time.perf_counter()
    with pytest.raises(UnsafeXmlError, match="elements are accepted"):
        parse_xml(flood, what="envelope")
    assert time.perf_counter() - started < 2
    assert parse_xml(b"<a>" + b"<b/>" * 1000 + b"</a>").tag == "a"


def test_nesting_beyond_the_parser_limit_is_refused() -> None:
    deep = b"<a>" * 10_000 + b"</a>" * 10_000
    with pytest.raises(UnsafeXmlError):
        parse_xml(deep)
