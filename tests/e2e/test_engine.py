"""The e2e engine without a simulator: plans, steps, latency, OpenAPI, guided waiting, verdicts."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest

from pytest_dso.e2e.flow import await_guided, guided_instructions, trigger_verdict
from pytest_dso.e2e.latency import Latency
from pytest_dso.e2e.openapi import OpenApiDocument, OpenApiError, validate_schema
from pytest_dso.e2e.plan import PlanError, plan_for
from pytest_dso.e2e.steps import PRE_STEPS, PROD_STEPS, label_for, step, steps_for
from pytest_dso.e2e.vth import VerzoekForVth, not_configured
from pytest_dso.environments import PRE, PROD
from pytest_dso.stam.model import VerzoekType
from pytest_dso.tenants import Tenant
from pytest_dso.triggers.base import LoggingSource, TriggerClaims, TriggerTimeout

GEMEENTE = Tenant("00000099000000101000", "Gemeente Oefenstad", "gemeente",
                 ("00000099000000201000",))
BD = Tenant("00000099000000201000", "Omgevingsdienst Oefenregio", "omgevingsdienst")
RIJK = Tenant("00000099000000301000", "Rijkswaterstaat", "rijk")
WATERSCHAP = Tenant("00000099000000102000", "Waterschap", "waterschap")
PARTIES = [GEMEENTE, BD, RIJK, WATERSCHAP]


def test_step_model_has_four_pre_parts_and_seven_prod_steps() -> None:
    assert sorted({s.part for s in PRE_STEPS}) == [
        "Aanmelden voor aansluiten", "Digikoppeling realiseren",
        "Triggerbericht ontvangen", "Vergunningaanvraag ophalen en gereedmelden"]
    assert [s.number for s in PROD_STEPS] == [str(n) for n in range(1, 8)]
    assert step("pre  2.6").proof == "pingpong"
    assert label_for("prod", "vth") == "PROD 7"
    assert steps_for("local") == PRE_STEPS
    assert step("PROD 7").subject("T-123") == "T-123: verzoek ophalen gereed"
    with pytest.raises(KeyError, match="known"):
        step("PRE 9.9")


def test_the_model_gives_labels_mails_and_readable_parameters() -> None:
    from pytest_dso.e2e.steps import MAILS, allure_labels, part_of, steps_of
    from pytest_dso.evidence.results import _readable_parameters

    assert repr(step("PRE 2.6")) == "PRE 2.6 Technisch testen (Ping/Pong)"
    assert allure_labels("local", ["PRE 2.6", "PROD 3"]) == [
        ("epic", "Aansluitproces STAM PRE"), ("feature", "PRE 2 Digikoppeling realiseren"),
        ("story", "PRE 2.6 Technisch testen (Ping/Pong)")]
    assert [label for label, _ in allure_labels("prod", ["PRE 2.6"])] == []
    assert [s.label for s in steps_of(part_of(step("PRE 4.1")))] == ["PRE 4.1", "PRE 4.2"]
    for mail in MAILS:  # every mail is a step with a subject and reports steps of its process
        assert step(mail.step).mail_subject
        assert all(step(label).env == mail.env for label in mail.reports)
    assert MAILS[0].subject("T-9") == "T-9: pingpong geslaagd"
    data: dict[str, Any] = {
        "parameters": [{"name": "mode", "value": "'sync'"}, {"name": "n", "value": "3"}],
        "steps": [{"parameters": [{"name": "x", "value": "\"a'b\""}]}]}
    _readable_parameters(data)
    assert [p["value"] for p in data["parameters"]] == ["sync", "3"]
    assert data["steps"][0]["parameters"][0]["value"] == "a'b"


def test_plans_per_type_of_organisation() -> None:
    waterschap = plan_for(WATERSCHAP, PARTIES, PRE)
    assert (waterschap.activiteit, waterschap.verzoektype) == (
        "Waterschappen – Melding", VerzoekType.MELDING)
    assert waterschap.bevoegd_gezag == WATERSCHAP
    bd = plan_for(BD, PARTIES, PROD)
    assert bd.via_behandeldienst
    assert bd.bevoegd_gezag == GEMEENTE
    assert bd.verzoektype == VerzoekType.INFORMATIE
    assert bd.activiteit == "Aansluitactiviteit Gemeentes – Informatie"
    rijk = plan_for(RIJK, PARTIES, PROD)
    assert rijk.ergens_anders_indienen
    assert rijk.testdatum == dt.date(2030, 1, 1)
    text = guided_instructions(rijk, "T-1")
    assert "Ergens anders indienen" in text
    assert "01-01-2030" in text
    assert "T-1" in text
    assert "beheerportaal" in text.lower()
    with pytest.raises(PlanError, match="behandeldiensten"):
        plan_for(BD, [BD], PRE)


def test_latency_spans_and_skew() -> None:
    t0 = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    lat = Latency(t0, t0 + dt.timedelta(seconds=2.5), t0 + dt.timedelta(seconds=3))
    assert lat.properties() == {"dso_latency_submit_to_trigger_s": "2.500",
                                "dso_latency_trigger_to_ophalen_s": "0.500"}
    assert not lat.skewed
    assert Latency(t0, t0 - dt.timedelta(seconds=1)).skewed
    assert Latency(None, t0).properties()["dso_latency_submit_to_trigger_s"] == "-"


DOC = {
    "openapi": "3.0.3",
    "paths": {
        "/verzoeken/{verzoeknummer}": {"get": {"responses": {
            "200": {"content": {"application/hal+json": {"schema": {
                "$ref": "#/components/schemas/Referenties"}}}},
            "403": {"description": "not authorised"}}}},
    },
    "components": {"schemas": {"Referenties": {
        "type": "object", "required": ["verzoeknummer", "_links"],
        "properties": {"verzoeknummer": {"type": "string", "pattern": "^[0-9]{13}$"},
                       "volgnummer": {"type": "integer", "minimum": 0, "nullable": True},
                       "_links": {"type": "object"}},
        "additionalProperties": False}}},
}


def test_openapi_response_validation() -> None:
    doc = OpenApiDocument.from_bytes("afhandelen", json.dumps(DOC).encode())
    url = "https://x/overheid/verzoeken/api/afhandelen/v2/verzoeken/2025030100001"
    good = json.dumps({"verzoeknummer": "2025030100001", "volgnummer": None,
                       "_links": {}}).encode()
    assert doc.validate_response("GET", url, 200, "application/hal+json", good) == []
    bad = json.dumps({"verzoeknummer": "X", "extra": 1}).encode()
    findings = doc.validate_response("GET", url, 200, "application/hal+json", bad)
    assert [f.check for f in findings] == ["openapi.response.schema"]
    assert "_links" in findings[0].message
    assert "'extra' is not allowed" in findings[0].message
    assert doc.validate_response("GET", url, 403, "application/problem+json", b"{}") == []
    assert [f.check for f in doc.validate_response("GET", url, 500, "text/plain", b"")] == [
        "openapi.response.undocumented_status"]
    assert [f.check for f in doc.validate_response("GET", url, 200, "text/html", b"")] == [
        "openapi.response.content_type"]
    assert [f.check for f in doc.validate_response("POST", url, 200, "", b"")] == [
        "openapi.path.unknown"]
    with pytest.raises(OpenApiError, match="no 'paths'"):
        OpenApiDocument.from_bytes("x", b"{}")


def test_schema_subset_keywords() -> None:
    schema = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert validate_schema(3, schema) == []
    assert validate_schema(3.5, schema)
    assert validate_schema([1, 2, 3], {"type": "array", "maxItems": 2, "items": {
        "type": "integer"}}) == ["$: 3 items, at most 2"]
    assert validate_schema("b", {"enum": ["a"]}) == ["$: 'b' is not one of ['a']"]
    assert validate_schema(True, {"type": "integer"})  # a boolean is not an integer


def test_guided_wait_takes_the_first_trigger_for_the_tenant_that_no_wait_took() -> None:
    source = LoggingSource()
    claims = TriggerClaims(source)
    plan = plan_for(WATERSCHAP, PARTIES, PRE)
    said: list[str] = []

    def later() -> None:
        source.log.record(b"x", verzoeknummer="2025030100001", recipient_oin=GEMEENTE.oin)
        source.log.record(b"y", verzoeknummer="2025030100002", recipient_oin=WATERSCHAP.oin)

    timer = threading.Timer(0.2, later)
    timer.start()
    trigger, findings = await_guided(source, plan, 5.0, said.append, claims=claims, step=0.02,
                                     announce_every=0.05)
    timer.cancel()
    assert trigger is not None
    assert trigger.verzoeknummer == "2025030100002"
    assert [f.check for f in findings] == ["e2e.trigger.received"]
    assert said
    assert "s left" in said[0]
    # the waterschap's trigger is taken; a second wait for it finds nothing new
    trigger, findings = await_guided(source, plan, 0.1, said.append, claims=claims, step=0.02)
    assert trigger is None
    assert findings[0].check == "e2e.trigger.timeout"
    assert findings[0].hint.index("RetryInterval") < findings[0].hint.index("forward") < (
        findings[0].hint.index("CPA's endpoint")) < findings[0].hint.index("firewall")
    # the gemeente's trigger arrived while the waterschap was waited for: kept for it
    gemeente = plan_for(GEMEENTE, PARTIES, PRE)
    t0 = time.monotonic()
    trigger, _ = await_guided(source, gemeente, 5.0, said.append, claims=claims, step=0.02)
    assert time.monotonic() - t0 < 1.0
    assert trigger is not None
    assert trigger.verzoeknummer == "2025030100001"
    assert set(claims.claimed()) == {WATERSCHAP.oin, GEMEENTE.oin}
    assert claims.unclaimed() == []


def test_guided_wait_takes_a_trigger_from_before_the_run_but_not_a_stale_one() -> None:
    source = LoggingSource()
    start = dt.datetime.now(dt.UTC)
    source.log.record(b"s", verzoeknummer="2025030100007", recipient_oin=GEMEENTE.oin,
                      received_at=start - dt.timedelta(hours=5))
    source.log.record(b"f", verzoeknummer="2025030100008", recipient_oin=GEMEENTE.oin,
                      received_at=start - dt.timedelta(minutes=5))
    claims = TriggerClaims(source, started_at=start, lookback=3600)
    trigger, findings = await_guided(source, plan_for(GEMEENTE, PARTIES, PRE), 1.0,
                                     lambda _: None, claims=claims, step=0.02)
    assert trigger is not None
    assert trigger.verzoeknummer == "2025030100008"
    assert "e2e.trigger.before_run" in [f.check for f in findings]


def test_a_reserved_verzoeknummer_is_never_taken_by_another_tenants_wait() -> None:
    source = LoggingSource()
    claims = TriggerClaims(source)
    source.log.record(b"u", verzoeknummer="2025030100011")  # recipient unknown
    claims.reserve("2025030100011", GEMEENTE.oin)
    trigger, _ = await_guided(source, plan_for(WATERSCHAP, PARTIES, PRE), 0.1, lambda _: None,
                              claims=claims, step=0.02)
    assert trigger is None
    assert [t.verzoeknummer for t in claims.unclaimed()] == ["2025030100011"]


def test_trigger_verdicts_tell_the_links_apart() -> None:
    source = LoggingSource()
    other = source.log.record(b"o", verzoeknummer="2", recipient_oin="B")
    same_elsewhere = source.log.record(b"s", verzoeknummer="1", recipient_oin="BG")
    assert trigger_verdict(TriggerTimeout("1", 1, "x"), "T").check == "e2e.trigger.timeout"
    assert trigger_verdict(TriggerTimeout("1", 1, "x", [other]), "T").check == (
        "e2e.trigger.other_verzoek")
    assert trigger_verdict(TriggerTimeout("1", 1, "x", [other, same_elsewhere]), "T").check == (
        "e2e.trigger.recipient")


def test_default_vth_check_records_manual_with_the_evidence_needed() -> None:
    outcome = not_configured(VerzoekForVth("2025030100001", GEMEENTE.oin, GEMEENTE.name,
                                           "prod", None))
    assert outcome.status == "manual"
    assert not outcome.proven
    assert not outcome.failed
    assert "2025030100001" in outcome.detail
    assert "PROD" in outcome.detail
