"""The pytest plugin ``dso``: options, settings, markers, report header."""

from __future__ import annotations
