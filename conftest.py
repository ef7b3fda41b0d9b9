"""Project root: `pytest` runs the conformance suites in suites/ (see pyproject.toml).

The examples and benchmarks are run on purpose, not collected by accident.
"""

from __future__ import annotations

collect_ignore_glob = ["examples/*", "benchmarks/*", "certs-example/*", "reports/*"]
