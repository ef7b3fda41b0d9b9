"""Loaded into every pytester run of the self-tests (``PYTEST_PLUGINS``, see conftest.py).

It overrides the ``dso_test_pki`` override point with a quick EC test PKI: an RSA-3072 one
takes seconds to make in every run, an EC P-256 one a tenth of a second. Inside one process
(the outer session and its in-process ``pytester.runpytest`` runs) it is made once and reused.
A test about the RSA default asks for ``pytester_rsa_pki``; a test's own conftest.py that
defines ``dso_test_pki`` still wins (conftest fixtures override plugin ones).
"""

from __future__ import annotations

import functools

import pytest

from pytest_dso.pkio.testpki import TestPki, build_test_pki


@functools.cache
def shared_ec_pki() -> TestPki:
    """The EC test PKI of this process, made on first use."""
    return build_test_pki(key_type="ec256")


@pytest.fixture(scope="session")
def dso_test_pki() -> TestPki:
    """The self-tests' quick EC test PKI (shared within the process)."""
    return shared_ec_pki()
