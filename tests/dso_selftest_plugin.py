"""Loaded into every pytester run of the self-tests (``PYTEST_PLUGINS``, see conftest.py).

It overrides the ``dso_test_pki`` override point with a quick EC test PKI: an RSA-3072 one
takes seconds to make in every run, an EC P-256 one a tenth of a second. Inside one process
(the outer session and its in-process ``pytester.runpytest`` runs) it is made once and reused.
A test about RSA sets the key type with ``@pytest.mark.pki("rsa2048")`` (the pytester fixture
passes it as ``DSO_SELFTEST_KEY_TYPE``); a test's own conftest.py that defines ``dso_test_pki``
still wins (conftest fixtures override plugin ones).

PYTEST_DONT_REWRITE: the outer session imports this module before the runs load it, and it
holds no assertions to rewrite.
"""

from __future__ import annotations

import functools
import os
from typing import cast

import pytest

from pytest_dso.pkio.testpki import KeyType, TestPki, build_test_pki

KEY_TYPE_ENV = "DSO_SELFTEST_KEY_TYPE"


@functools.cache
def shared_pki(key_type: KeyType) -> TestPki:
    """The test PKI of this process for ``key_type``, made on first use."""
    return build_test_pki(key_type=key_type)


@pytest.fixture(scope="session")
def dso_test_pki() -> TestPki:
    """The self-tests' quick test PKI (EC unless the test asked for RSA; shared in-process)."""
    return shared_pki(cast(KeyType, os.environ.get(KEY_TYPE_ENV, "ec256")))
