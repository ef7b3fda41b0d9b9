"""Where the guides are: ``docs/*.md`` of the checkout, installed with the package as
``pytest_dso/docs/``, so a message can name a file the user has (``pip install`` brings no
repository)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def guide(name: str) -> str:
    """The path of the guide ``name`` (e.g. ``"rehearsal.md"``): the installed copy, or in a
    checkout the one in ``docs/``."""
    for folder in (_HERE / "docs", _HERE.parent / "docs"):
        path = folder / name
        if path.is_file():
            return str(path)
    return f"docs/{name} of pytest-dso"
