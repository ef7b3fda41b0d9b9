"""pytest-dso: connectivity and conformance tests for the DSO-LV STAM interface."""

from __future__ import annotations

from pytest_dso.findings import Finding, Severity

__all__ = ["Finding", "Severity", "__version__"]
__version__ = "0.1.0"
