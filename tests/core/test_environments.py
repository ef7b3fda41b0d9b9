"""Environment profiles hold the published facts, and local is just another profile."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_dso.environments import API_NAMES, LOCAL, PRE, PROD, profile


def test_pre_and_prod_follow_the_dso_domain_rule() -> None:
    assert PRE.api_url("afhandelen") == (
        "https://pkio.service.pre.omgevingswet.overheid.nl/overheid/verzoeken/api/afhandelen/v2"
    )
    assert PROD.api_url("behandeldienstconfiguratie") == (
        "https://pkio.service.omgevingswet.overheid.nl/overheid/toepasbare-regels/api/"
        "behandeldienstconfiguraties/v1"
    )
    assert PRE.api_url("verzoeksroutering").startswith("https://service.pre.omgevingswet")
    assert set(PRE.api_base_urls) == set(PROD.api_base_urls) == set(API_NAMES)


def test_published_ip_lists_and_cpa_register() -> None:
    assert PRE.egress_ips == PROD.egress_ips == ("147.181.12.102", "147.181.36.66")
    assert len(PRE.ingress_ips) == 4
    assert PRE.cpa_register_url.endswith("/specification/348/server_participant/3870")
    assert PROD.cpa_register_url.endswith("/specification/357/server_participant/4046")


def test_prod_has_testdatum_and_is_read_only() -> None:
    assert PROD.testdatum == dt.date(2030, 1, 1)
    assert PROD.read_only
    assert not PRE.read_only
    assert PROD.aansluitactiviteiten["waterschap"] == "Aansluitactiviteit Waterschappen – Melding"
    assert PRE.aansluitactiviteiten["omgevingsdienst"] == "Gemeentes – Informatie"


def test_local_points_at_loopback_and_accepts_test_roots() -> None:
    assert LOCAL.ingress_ips == LOCAL.egress_ips == ("127.0.0.1",)
    assert not LOCAL.require_pkio_root
    assert PRE.require_pkio_root
    assert PROD.require_pkio_root
    assert not LOCAL.is_remote
    assert PRE.is_remote


def test_overrides_and_missing_urls_are_explained() -> None:
    local = LOCAL.with_base_urls({"afhandelen": "https://127.0.0.1:4443/afhandelen/v2/"})
    assert local.api_url("afhandelen") == "https://127.0.0.1:4443/afhandelen/v2"
    with pytest.raises(KeyError, match=r"set \[api.base_urls\] indienen in dso.toml"):
        LOCAL.api_url("indienen")
    with pytest.raises(ValueError, match="choose one of: local, pre, prod"):
        profile("acc")
