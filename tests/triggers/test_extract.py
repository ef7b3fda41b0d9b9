"""Reading the verzoeknummer from payloads: STAM parser, XPath, regex, hostile XML."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.triggers.extract import (
    KIND_DKA_WITHDRAWAL,
    KIND_VERZOEKNOTIFICATIE,
    STAM_EXTRACTOR,
    TriggerParseError,
    VerzoeknummerExtractor,
    dka_withdrawal,
)

GEMEENTE = "00000099000000101000"


def test_stam_notificatie(notificatie: Callable[..., bytes]) -> None:
    found = STAM_EXTRACTOR.extract(notificatie("2025030100001"))
    assert found.verzoeknummer == "2025030100001"
    assert found.recipient_oin == GEMEENTE


def test_adapter_wrapper_is_read_by_the_default() -> None:
    raw = b"<triggerbericht><trigger><verzoeknummer> 2025030100002 </verzoeknummer></trigger>" \
          b"</triggerbericht>"
    assert STAM_EXTRACTOR.extract(raw).verzoeknummer == "2025030100002"


def test_xpath_with_namespaces_and_number_function() -> None:
    raw = b'<e:env xmlns:e="urn:x"><e:body><e:nr>2025030100003</e:nr></e:body></e:env>'
    by_element = VerzoeknummerExtractor(xpath="//e:nr", namespaces={"e": "urn:x"})
    assert by_element.extract(raw).verzoeknummer == "2025030100003"
    by_number = VerzoeknummerExtractor(xpath="number(//e:nr)", namespaces={"e": "urn:x"})
    assert by_number.extract(raw).verzoeknummer == "2025030100003"
    with pytest.raises(TriggerParseError, match="selects nothing"):
        VerzoeknummerExtractor(xpath="//e:other", namespaces={"e": "urn:x"}).extract(raw)


def test_regex_named_group_first_group_or_whole_match() -> None:
    raw = b"verzoek=2025030100004;kenmerk=1"
    assert VerzoeknummerExtractor(regex=r"verzoek=(?P<verzoeknummer>\d+)").extract(
        raw).verzoeknummer == "2025030100004"
    assert VerzoeknummerExtractor(regex=r"verzoek=(\d+)").extract(raw).verzoeknummer == (
        "2025030100004")
    assert VerzoeknummerExtractor(regex=r"\d{13}").extract(raw).verzoeknummer == "2025030100004"
    with pytest.raises(TriggerParseError, match="does not match"):
        VerzoeknummerExtractor(regex=r"zaak=(\d+)").extract(raw)


def test_hostile_and_empty_payloads_are_refused_readably() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<verzoeknotificatie><verzoeknummer>&x;</verzoeknummer></verzoeknotificatie>")
    with pytest.raises(TriggerParseError, match="DOCTYPE"):
        STAM_EXTRACTOR.extract(xxe)
    with pytest.raises(TriggerParseError, match="empty"):
        STAM_EXTRACTOR.extract(b"  ")
    with pytest.raises(TriggerParseError, match="no <verzoeknummer>"):
        STAM_EXTRACTOR.extract(b"<bericht><iets/></bericht>")


def test_configuration_mistakes_are_reported_up_front() -> None:
    with pytest.raises(ValueError, match="not both"):
        VerzoeknummerExtractor(xpath="//a", regex="a")
    with pytest.raises(ValueError, match="regex"):
        VerzoeknummerExtractor(regex="(")
    with pytest.raises(ValueError, match="xpath"):
        VerzoeknummerExtractor(xpath="//[")


DKA_CLOSE = (b"<root><oin>00000099000000101000</oin><verzoeknummer>2026060200019</verzoeknummer>"
             b"<actie>close</actie></root>")


@pytest.mark.parametrize(
    "extractor",
    [STAM_EXTRACTOR, VerzoeknummerExtractor(regex=r"(\d{13})"),
     VerzoeknummerExtractor(xpath="//verzoeknummer")],
)
def test_a_dka_withdrawal_is_recognised_whatever_the_method(
    extractor: VerzoeknummerExtractor,
) -> None:
    found = extractor.extract(DKA_CLOSE)
    assert found.kind == KIND_DKA_WITHDRAWAL
    assert found.verzoeknummer == "2026060200019"
    assert found.recipient_oin == "00000099000000101000"


def test_other_root_messages_are_not_withdrawals() -> None:
    open_ = DKA_CLOSE.replace(b"close", b"open")
    assert STAM_EXTRACTOR.extract(open_).kind == KIND_VERZOEKNOTIFICATIE
    assert dka_withdrawal(b"<Root><Actie>CLOSE</Actie><VerzoekNummer>1</VerzoekNummer></Root>")
    assert dka_withdrawal(b"<root><actie>close</actie></root>") is None
    assert dka_withdrawal(b"<trigger><actie>close</actie><verzoeknummer>1</verzoeknummer>"
                          b"</trigger>") is None
