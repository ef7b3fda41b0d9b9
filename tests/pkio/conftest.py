"""Shared fixtures for the PKIoverheid engine tests: a hierarchy per module, leaves on demand."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.pkio.testpki import Issued, LeafSpec, TestHierarchy, build_hierarchy, test_oin

LEAF_OIN = test_oin(4242)


def _spec(**changes: object) -> LeafSpec:
    values: dict[str, object] = {
        "common_name": "adapter.test.localhost",
        "oin": LEAF_OIN,
        "dns_names": ("adapter.test.localhost", "localhost"),
        "key_type": "ec256",
    }
    values.update(changes)
    return LeafSpec(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def leaf_oin() -> str:
    """The OIN of every default test leaf."""
    return LEAF_OIN


@pytest.fixture(scope="module")
def hierarchy() -> TestHierarchy:
    """A fresh EC test hierarchy, shared by the tests of one module."""
    return build_hierarchy("unit", key_type="ec256")


@pytest.fixture(scope="module")
def good(hierarchy: TestHierarchy) -> Issued:
    """A sound leaf under ``hierarchy`` (EC P-256, test OIN, SAN adapter.test.localhost)."""
    return hierarchy.issue(_spec())


@pytest.fixture(scope="module")
def issue(hierarchy: TestHierarchy) -> Callable[..., Issued]:
    """Issue a leaf under ``hierarchy`` with spec changes, e.g. ``issue(oin=None)``."""

    def make(**changes: object) -> Issued:
        return hierarchy.issue(_spec(**changes))

    return make
