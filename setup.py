"""Package layout (everything else is in pyproject.toml): the conformance suites stay in the
top-level ``suites/`` folder and ship inside the wheel as ``pytest_dso.suites``, and the guides
in ``docs/`` ship as ``pytest_dso/docs/`` (the messages that refer to one give its path)."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["pytest_dso", "pytest_dso.*"], exclude=["*.__pycache__"]),
        "pytest_dso.suites",
        "pytest_dso.docs",
    ],
    package_dir={"pytest_dso.suites": "suites", "pytest_dso.docs": "docs"},
)
