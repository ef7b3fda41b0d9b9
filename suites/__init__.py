"""The pytest-dso conformance suites. Installed, they are the package ``pytest_dso.suites``,
collected when pytest-dso is active and you name no test paths (see ``--dso-suites``)."""
