"""Path templates (tagged defaults, overrides) and the shared JSON shapes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

import pytest

from pytest_dso.dso.paths import DEFAULT_PATHS, UnknownOperationError, join_url, render_path
from pytest_dso.dso.shapes import (
    ActiviteitRef,
    BehandeldienstConfiguratie,
    DocumentLink,
    GegenereerdeBijlage,
    IndienActiviteit,
    Indienbericht,
    Referenties,
    RouteringAdvies,
    ShapeError,
    Toestemming,
    Zaakverwijzing,
    ZoekVraag,
    configuraties_from_json,
    configuraties_to_json,
    zoek_resultaat_from_json,
    zoek_resultaat_to_json,
)
from pytest_dso.environments import API_NAMES
from pytest_dso.stam.model import (
    Adres,
    Contactpersoon,
    NatuurlijkPersoon,
    Organisatie,
    Projectlocatie,
    RdPunt,
    Specificatie,
    VerzoekType,
    example_bsn,
)

BG = "00000099000000101000"
BD = "00000099000000201000"


def test_every_default_is_tagged_and_belongs_to_a_known_api() -> None:
    for name, default in DEFAULT_PATHS.items():
        assert default.tag in ("[C]", "[V]", "[I]", "[?]"), name
        assert default.api in API_NAMES, name
        assert name.split(".", 1)[0] == default.api
        assert default.method in ("GET", "POST", "DELETE", "PUT")


def test_the_confirmed_create_is_a_post_to_the_base_url() -> None:
    create = DEFAULT_PATHS["behandeldienstconfiguratie.create"]
    assert (create.method, create.template, create.tag) == ("POST", "", "[C]")


def test_render_quotes_and_overrides() -> None:
    assert render_path("afhandelen.referenties", verzoeknummer="20260602/00001") == (
        "verzoeken/20260602%2F00001"
    )
    assert (
        render_path(
            "afhandelen.referenties",
            {"afhandelen.referenties": "v/{verzoeknummer}/refs"},
            verzoeknummer="1",
        )
        == "v/1/refs"
    )
    with pytest.raises(KeyError, match="needs \\{verzoeknummer\\}"):
        render_path("afhandelen.referenties")
    with pytest.raises(UnknownOperationError, match="unknown DSO API operation"):
        render_path("afhandelen.nope")


def test_join_url() -> None:
    assert join_url("https://h/a/v1/", "") == "https://h/a/v1"
    assert join_url("https://h/a/v1", "/x") == "https://h/a/v1/x"


def test_configuratie_json_round_trip_matches_the_process_document() -> None:
    c = BehandeldienstConfiguratie(
        BG, ActiviteitRef("DakkapelPlaatsen", BG), BD, Toestemming("V", "Vergunning"), (BG,)
    )
    body = c.to_json()
    assert set(body) == {"oin", "activiteit", "behandeldienstOin", "toestemming", "locatieOins"}
    assert BehandeldienstConfiguratie.from_json(body) == c
    minimal = {"oin": BG, "activiteit": {"naam": "X", "oin": BG}, "behandeldienstOin": BD}
    assert BehandeldienstConfiguratie.from_json(minimal).toestemming is None
    assert configuraties_from_json(configuraties_to_json([c])) == (c,)
    assert configuraties_from_json([body]) == (c,)


def test_configuratie_errors_list_every_problem() -> None:
    with pytest.raises(ShapeError) as info:
        BehandeldienstConfiguratie.from_json(
            {"oin": "123", "activiteit": {"naam": ""}, "locatieOins": [BG, BG]}
        )
    text = str(info.value)
    for part in ("'oin'", "activiteit.naam", "activiteit.oin", "behandeldienstOin", "twice"):
        assert part in text
    with pytest.raises(ShapeError, match="JSON object"):
        BehandeldienstConfiguratie.from_json([1])


def test_referenties_round_trip_and_custom_relations() -> None:
    refs = Referenties(
        "2026060200001",
        "https://h/x.xml",
        "/pdf",
        (DocumentLink("d/1", "1", "a.pdf", "application/pdf"),),
        2,
    )
    body = refs.to_json("https://h/self")
    assert Referenties.from_json(body) == refs
    body["_links"]["stam"] = body["_links"].pop("verzoek")
    with pytest.raises(ShapeError, match="no 'verzoek' link"):
        Referenties.from_json(body)
    assert Referenties.from_json(body, {"verzoek": "stam"}).verzoek_href == "https://h/x.xml"


def test_zoek_shapes() -> None:
    vraag = ZoekVraag(
        dt.date(2026, 6, 1),
        dt.date(2026, 6, 3),
        polygoon=(RdPunt(1, 2), RdPunt(3, 4), RdPunt(1, 2)),
        page=1,
    )
    assert ZoekVraag.from_json(vraag.to_json()) == vraag
    with pytest.raises(ShapeError, match="verzoeknummer"):
        ZoekVraag.from_json({"periode": {"van": "2026-06-01", "tot": "2026-06-02"}})
    hits = (Zaakverwijzing("2026060200001", BG, BD, RdPunt(1.5, 2.5)),)
    assert zoek_resultaat_from_json(zoek_resultaat_to_json(hits, 0, 1)) == hits


def test_routering_advies_round_trip() -> None:
    advies = RouteringAdvies(((Organisatie(BG, "G"), True),), True, Organisatie(BD, "OD"))
    assert RouteringAdvies.from_json(advies.to_json()) == advies
    with pytest.raises(ShapeError):
        RouteringAdvies.from_json({"x": 1})


def test_indienbericht_round_trip_and_errors() -> None:
    b = Indienbericht(
        VerzoekType.INFORMATIE,
        (
            IndienActiviteit(
                ActiviteitRef("Gemeentes – Informatie", BG),
                Organisatie(BG, "G"),
                Toestemming("I"),
                (Specificatie("1", "Jan"),),
            ),
        ),
        naam="Test",
        projectlocaties=(Projectlocatie(punt=RdPunt(155000, 463000)),),
        locatie_oin=BG,
        initiatiefnemer=NatuurlijkPersoon(example_bsn(), "Tester"),
        bijlagen=(GegenereerdeBijlage(1, 5000, "a.pdf"),),
    )
    assert Indienbericht.from_json(b.to_json()) == b
    with pytest.raises(ShapeError) as info:
        Indienbericht.from_json(
            {
                "type": "Melding",
                "activiteiten": [{"activiteit": {}}],
                "bijlagen": [{}],
                "locatieOin": "x",
            }
        )
    assert "activiteiten[0]" in str(info.value)
    assert "bijlagen[0]" in str(info.value)
    assert "locatieOin" in str(info.value)
    with pytest.raises(ShapeError, match="unknown verzoek type"):
        Indienbericht.from_json({"type": " ", "activiteiten": []})
    idee = Indienbericht.from_json({**b.to_json(), "type": "Idee"})
    assert idee.type.value == "Idee"
    assert not idee.type.is_known
    with pytest.raises(ShapeError, match="rolaanduiding"):
        Indienbericht.from_json({**b.to_json(), "rolaanduiding": "buurman"})


def test_indienbericht_v5_has_rolaanduiding_and_no_empty_address_elements() -> None:
    b = Indienbericht(
        VerzoekType.MELDING,
        (IndienActiviteit(ActiviteitRef("Gemeentes – Melding", BG), Organisatie(BG, "G")),),
        projectlocaties=(Projectlocatie(adres=Adres(postcode="1234AB", huisnummer=1)),),
    )
    v5, v4 = b.to_json(), b.to_json(4)
    assert v5["rolaanduiding"] == "initiatiefnemer"
    assert "machtiging" not in v5
    assert v5["projectlocaties"][0]["adres"] == {"postcode": "1234AB", "huisnummer": 1}
    assert "rolaanduiding" not in v4
    assert v4["projectlocaties"][0]["adres"]["huisletter"] == ""
    assert Indienbericht.from_json(v5) == Indienbericht.from_json(v4) == b
    with_contact = dataclasses.replace(b, contactpersoon=Contactpersoon("P. Contact", "B.V."))
    assert Indienbericht.from_json(with_contact.to_json()) == with_contact


def test_rest_config_from_settings_merges_overrides() -> None:
    from pytest_dso.dso.rest import RestConfig
    from pytest_dso.dsofile import ApiConfig, DsoFile
    from pytest_dso.environments import profile
    from pytest_dso.settings import DsoSettings

    api = ApiConfig(
        base_urls={"afhandelen": "https://example.test/afh/v2/"},
        paths={"afhandelen.referenties": "v/{verzoeknummer}"},
        acting_oin_header="X-Namens",
        api_key_env="MY_KEY",
    )
    config = RestConfig.from_settings(DsoSettings(env="pre", file=DsoFile(api=api)), profile("pre"))
    assert config.base_url("afhandelen") == "https://example.test/afh/v2"
    assert config.base_url("behandeldienstconfiguratie").startswith(
        "https://pkio.service.pre.omgevingswet.overheid.nl/"
    )
    assert config.paths["afhandelen.referenties"] == "v/{verzoeknummer}"
    assert (config.acting_oin_header, config.api_key_env) == ("X-Namens", "MY_KEY")


def test_indienen_v5_by_default_v4_and_rerouting_version_configurable() -> None:
    from pytest_dso.dso.paths import api_major, with_major
    from pytest_dso.dso.rest import RestConfig, RestSession
    from pytest_dso.dsofile import ApiConfig, DsoFile
    from pytest_dso.environments import profile
    from pytest_dso.settings import DsoSettings

    def config(**api: typing.Any) -> RestConfig:
        file = DsoFile(api=ApiConfig(**api))
        return RestConfig.from_settings(DsoSettings(env="prod", file=file), profile("prod"))

    assert config().base_url("indienen").endswith("/publiek/verzoeken/api/indienen/v5")
    assert config(indienen_version="v4").base_url("indienen").endswith("/indienen/v4")
    with RestSession(config()) as session:
        assert session.url("afhandelen.wijzig_bevoegd_gezag", verzoeknummer="1").startswith(
            "https://pkio.service.omgevingswet.overheid.nl/overheid/verzoeken/api/afhandelen/v1/")
        assert "/afhandelen/v2/" in session.url("afhandelen.referenties", verzoeknummer="1")
    with RestSession(config(rerouting_version="v2")) as session:
        assert "/afhandelen/v2/" in session.url("afhandelen.wijzig_bevoegd_gezag",
                                                verzoeknummer="1")
    assert api_major("https://x/a/v12/") == 12
    assert api_major("https://x/a") is None
    assert with_major("https://x/a/v2", "v1") == "https://x/a/v1"
    assert with_major("https://x/a", 1) == "https://x/a"
    with pytest.raises(ValueError, match="v<major>"):
        with_major("https://x/a/v2", "latest")
