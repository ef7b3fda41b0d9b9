"""Chain building and the PKIoverheid root policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.findings import Finding, Severity, errors
from pytest_dso.pkio.chain import (
    DEFAULT_ACCEPTED_ROOT_FINGERPRINTS,
    G1_PRIVATE_ROOT_NAME,
    G1_PRIVATE_ROOT_SHA256,
    G4_PRIVATE_ROOT_NAME,
    G4_PRIVATE_ROOT_SHA256,
    RootKind,
    build_path,
    check_chain,
    classify_root,
    describe_path,
)
from pytest_dso.pkio.identity import fingerprint_sha256
from pytest_dso.pkio.testpki import Issued, LeafSpec, TestHierarchy, build_hierarchy


def ids(findings: list[Finding], severity: Severity = Severity.ERROR) -> list[str]:
    return [f.check for f in findings if f.severity == severity]


def leaf_under(root_name: str) -> tuple[Issued, TestHierarchy]:
    hierarchy = build_hierarchy("named", key_type="ec256", root_name=root_name)
    return hierarchy.issue(LeafSpec("adapter.test.localhost", None, key_type="ec256")), hierarchy


def test_complete_chain_to_test_root_is_fine_locally(
    good: Issued, hierarchy: TestHierarchy
) -> None:
    findings = check_chain(
        good.certificate, good.issuers[:-1], hierarchy.anchors, require_pkio_root=False
    )
    assert errors(findings) == []
    assert ids(findings, Severity.WARNING) == []
    ok = next(f for f in findings if f.check == "pkio.chain.ok")
    assert ok.evidence["levels"] == "4"
    assert "PRE/PROD need a PKIoverheid private root" in ok.message


def test_path_is_built_in_issuing_order(good: Issued, hierarchy: TestHierarchy) -> None:
    shuffled = (hierarchy.domain.certificate, hierarchy.tsp.certificate)
    path = build_path(good.certificate, shuffled, hierarchy.anchors)
    assert path.ended == "root"
    assert path.certificates == (good.certificate, *good.issuers)


def test_missing_intermediate_names_the_missing_issuer(
    good: Issued, hierarchy: TestHierarchy
) -> None:
    findings = check_chain(
        good.certificate, (hierarchy.tsp.certificate,), hierarchy.anchors, require_pkio_root=False
    )
    assert ids(findings) == ["pkio.chain.incomplete"]
    incomplete = findings[0]
    assert "'TEST unit Private Services CA - G1'" in incomplete.message
    assert incomplete.evidence["missing_issuer"] == "TEST unit Private Services CA - G1"
    assert "four levels" in incomplete.hint


def test_missing_g1_root_points_to_the_download(hierarchy: TestHierarchy) -> None:
    leaf, _named = leaf_under(G1_PRIVATE_ROOT_NAME)
    findings = check_chain(leaf.certificate, leaf.issuers[:-1], (), require_pkio_root=True)
    assert ids(findings) == ["pkio.chain.incomplete"]
    assert "cert.pkioverheid.nl/PrivateRootCA-G1.cer" in findings[0].hint
    assert G1_PRIVATE_ROOT_SHA256 in findings[0].hint
    assert "missing: " + G1_PRIVATE_ROOT_NAME in describe_path(leaf.certificate, leaf.issuers[:-1])


def test_bad_signature_from_a_ca_with_the_right_name(
    good: Issued, hierarchy: TestHierarchy
) -> None:
    impostor = build_hierarchy("unit", key_type="ec256")  # same names, other keys
    findings = check_chain(
        good.certificate,
        (impostor.tsp.certificate, hierarchy.domain.certificate),
        hierarchy.anchors,
        require_pkio_root=False,
    )
    assert ids(findings) == ["pkio.chain.bad_signature"]
    assert "TEST unit PKIoverheid Private Services TSP CA - G1" in findings[0].message


def test_root_not_in_ca_bundle_locally(good: Issued) -> None:
    findings = check_chain(good.certificate, good.issuers, (), require_pkio_root=False)
    assert ids(findings) == ["pkio.chain.anchor_not_found"]
    assert "TEST unit Private Root CA - G1" in findings[0].message


def test_test_root_in_ca_bundle_is_refused_on_pre(good: Issued, hierarchy: TestHierarchy) -> None:
    findings = check_chain(
        good.certificate, good.issuers[:-1], hierarchy.anchors, require_pkio_root=True
    )
    assert ids(findings) == ["pkio.chain.not_pkio_root"]
    message = findings[0].message
    assert "'TEST unit Private Root CA - G1'" in message
    assert "is not a PKIoverheid private root" in message
    assert "DSO-LV will refuse it" in message
    assert "even though it is in ca_bundle" in message


def test_foreign_root_presented_in_chain_is_refused_on_pre(good: Issued) -> None:
    findings = check_chain(good.certificate, good.issuers, (), require_pkio_root=True)
    assert ids(findings) == ["pkio.chain.not_pkio_root"]


def test_g1_is_recognised_by_configured_fingerprint(good: Issued, hierarchy: TestHierarchy) -> None:
    root_fp = fingerprint_sha256(hierarchy.root.certificate)
    colon_form = ":".join(root_fp[i : i + 2] for i in range(0, len(root_fp), 2)).upper()
    findings = check_chain(
        good.certificate,
        good.issuers,  # root presented, not in ca_bundle: the fingerprint is the anchor
        (),
        require_pkio_root=True,
        accepted_root_fingerprints={colon_form},
    )
    assert errors(findings) == []
    assert (
        "accepted by fingerprint" in next(f for f in findings if f.check == "pkio.chain.ok").message
    )


def test_default_accepted_fingerprints_are_the_g1_and_g4_private_roots() -> None:
    assert {
        "0257ce27b52408e24ee2c0945640b723c5bc66ddbda4ada58c60357604f0e675",
        "4411f67d3d7f4f49d34ff8862249de0d6692adc92df0855fb1dd67a169800484",
    } == DEFAULT_ACCEPTED_ROOT_FINGERPRINTS


def test_g1_name_with_another_fingerprint_is_refused_on_pre() -> None:
    leaf, named = leaf_under(G1_PRIVATE_ROOT_NAME)
    assert classify_root(named.root.certificate).kind == RootKind.IMPOSTOR
    findings = check_chain(
        leaf.certificate, leaf.issuers[:-1], named.anchors, require_pkio_root=True
    )
    assert ids(findings) == ["pkio.chain.root_fingerprint"]
    assert G1_PRIVATE_ROOT_SHA256 in findings[0].message


def test_g4_root_is_recognised_by_name_on_pre() -> None:
    leaf, named = leaf_under(G4_PRIVATE_ROOT_NAME)
    in_bundle = check_chain(
        leaf.certificate, leaf.issuers[:-1], named.anchors, require_pkio_root=True
    )
    assert errors(in_bundle) == []
    assert ids(in_bundle, Severity.INFO)[0] == "pkio.chain.root_by_name"
    assert "fingerprint" in in_bundle[0].hint
    # The fingerprint a secondary source gives is named, so the user can compare.
    assert G4_PRIVATE_ROOT_SHA256 in in_bundle[0].message
    assert "secondary source" in in_bundle[0].message
    presented_only = check_chain(leaf.certificate, leaf.issuers, (), require_pkio_root=True)
    assert errors(presented_only) == []
    assert ids(presented_only, Severity.WARNING) == ["pkio.chain.root_by_name"]


@pytest.mark.parametrize(
    "root_name",
    [
        "Staat der Nederlanden Root CA - G3",
        "Staat der Nederlanden EV Root CA",
        "Staat der Nederlanden Root CA - G2",
        "TRIAL PKIoverheid Organisatie Root CA - G3",
    ],
)
def test_public_ev_and_trial_roots_are_refused(root_name: str) -> None:
    leaf, named = leaf_under(root_name)
    on_pre = check_chain(leaf.certificate, leaf.issuers[:-1], named.anchors, require_pkio_root=True)
    assert ids(on_pre) == ["pkio.chain.wrong_hierarchy"]
    assert root_name in on_pre[0].message
    assert "DSO-LV will refuse it" in on_pre[0].message
    locally = check_chain(
        leaf.certificate, leaf.issuers[:-1], named.anchors, require_pkio_root=False
    )
    assert errors(locally) == []
    assert ids(locally, Severity.WARNING) == ["pkio.chain.wrong_hierarchy"]


def test_intermediates_only_in_ca_bundle_are_not_presented(
    good: Issued, hierarchy: TestHierarchy
) -> None:
    bundle = (hierarchy.root.certificate, hierarchy.domain.certificate, hierarchy.tsp.certificate)
    findings = check_chain(good.certificate, (), bundle, require_pkio_root=False)
    assert ids(findings) == ["pkio.chain.intermediate_not_presented"] * 2


def test_intermediate_trust_anchor_ends_the_path_locally(
    good: Issued, hierarchy: TestHierarchy
) -> None:
    findings = check_chain(
        good.certificate, (), (hierarchy.tsp.certificate,), require_pkio_root=False
    )
    assert errors(findings) == []
    assert "trust anchor" in next(f for f in findings if f.check == "pkio.chain.ok").message


def test_expired_ca_certificates() -> None:
    short = build_hierarchy("short", key_type="ec256", days=3)
    leaf = short.issue(LeafSpec("x", None, key_type="ec256", days=1))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    findings = check_chain(
        leaf.certificate, leaf.issuers[:-1], short.anchors, require_pkio_root=False, now=later
    )
    assert ids(findings) == ["pkio.chain.ca_expired"] * 3


def test_end_entity_as_issuer_is_not_a_ca(
    good: Issued, hierarchy: TestHierarchy, issue: Callable[..., Issued]
) -> None:
    child = hierarchy.issue(LeafSpec("child", None, key_type="ec256"), issuer=good)
    findings = check_chain(
        child.certificate, child.issuers[:-1], hierarchy.anchors, require_pkio_root=False
    )
    assert ids(findings) == ["pkio.chain.not_a_ca"]
    assert "adapter.test.localhost" in findings[0].message


def test_sha1_signed_leaf_still_chains() -> None:
    rsa = build_hierarchy("rsa", key_type="rsa2048")
    leaf = rsa.issue(LeafSpec("old", None, key_type="ec256", hash_name="sha1"))
    findings = check_chain(
        leaf.certificate, leaf.issuers[:-1], rsa.anchors, require_pkio_root=False
    )
    assert errors(findings) == []


def test_g4_root_by_its_fingerprint_is_pinned_and_marked_as_secondary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_dso.pkio import chain

    assert G4_PRIVATE_ROOT_SHA256 in DEFAULT_ACCEPTED_ROOT_FINGERPRINTS
    assert len(G4_PRIVATE_ROOT_SHA256) == 64
    leaf, named = leaf_under(G4_PRIVATE_ROOT_NAME)
    root = named.anchors[0]
    # Stand in for the real G4 root: the same name, and its fingerprint taken as the known one.
    monkeypatch.setattr(chain, "G4_PRIVATE_ROOT_SHA256", fingerprint_sha256(root))
    verdict = chain.classify_root(root, {fingerprint_sha256(root)})
    assert verdict.kind is RootKind.PINNED
    assert "G4" in verdict.description
    assert "secondary source" in verdict.description
    findings = check_chain(leaf.certificate, leaf.issuers, (), require_pkio_root=True,
                           accepted_root_fingerprints={fingerprint_sha256(root)})
    assert errors(findings) == []
    assert "secondary source" in next(f for f in findings if f.check == "pkio.chain.ok").message
