"""Project root. ``pytest`` runs the conformance suites in suites/ (``testpaths`` in
pyproject.toml); ``pytest tests`` runs the plugin's own tests.

This is also the place for your own overrides of pytest-dso fixtures and hooks for the suites,
for example a ``dso_vth_check`` fixture that looks the verzoek up in your VTH- or zaaksysteem
(see examples/vth_check/).
"""

from __future__ import annotations

#: Run output and benchmark scripts are never collected as tests.
collect_ignore_glob = ["reports/*", "benchmarks/*"]
