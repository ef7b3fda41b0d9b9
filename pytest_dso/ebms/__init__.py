"""Digikoppeling ebMS 2.0: envelope (build/parse), MIME packaging, validation, CPA parsing,
writing and linting. Plain Python, no pytest; the pytest layer is ``pytest_dso.fixtures.ebms``.

Modules: ``constants``, ``envelope``, ``mime``, ``validate``, ``cpa`` (+ ``cpa_build``,
``durations``), ``cpa_lint``; the MSH, client and receiver build on these.
"""
