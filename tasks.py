#!/usr/bin/env python3
"""One-command entry points for a fresh machine (only Python 3.11+ needed).

    python3 tasks.py run [pytest args]   the suites against the embedded simulator + report
    python3 tasks.py test [pytest args]  the plugin's own tests
    python3 tasks.py lint                ruff and mypy --strict (the package, tests/, benchmarks/)
    python3 tasks.py bench               the benchmarks (ratios from one run)
    python3 tasks.py contract            schemathesis against the simulator's OpenAPI documents

Each command first makes ``.venv`` and installs pytest-dso into it (again only when
``pyproject.toml`` changed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".pytest-dso-installed"
#: pytest plugins of the dev extras that the suites do not use.
UNUSED_PLUGINS = ("schemathesis", "anyio", "hypothesispytest")


def _run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def _bytecode_cached() -> dict[str, str]:
    """The environment with bytecode cached under ``.venv``: the self-tests start many
    Python processes, and compiling every module afresh in each (as PYTHONDONTWRITEBYTECODE
    makes them do) costs about a second apiece. The cache lives outside the source tree, so no
    test folder gets a ``__pycache__``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(VENV / "pycache")
    return env


def ensure_venv() -> None:
    """Create ``.venv`` and install the project with its dev extras when needed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    pip: list[str | Path] = [BIN / "python", "-m", "pip", "install", "--disable-pip-version-check",
                             "-q"]
    if _run(*pip, "--upgrade", "pip") or _run(*pip, "-e", ".[dev]"):
        sys.exit("Installing pytest-dso into .venv failed; see the messages above.")
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in ("run", "test", "lint", "bench", "contract"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    ensure_venv()
    python = BIN / "python"
    if command == "run":
        # The suites use none of the dev extras' pytest plugins: left out, they spare the job
        # about two seconds of imports (as in tests/pytest.ini).
        code = _run(python, "-m", "pytest", *(f"-pno:{name}" for name in UNUSED_PLUGINS), *rest)
        _run(BIN / "dso-report", "render")
        return code
    if command == "test":
        return _run(python, "-m", "pytest", "tests", "-n", "2", "--dist", "worksteal", *rest,
                    env=_bytecode_cached())
    if command == "lint":
        return _run(python, "-m", "ruff", "check", ".") or _run(python, "-m", "mypy")
    if command == "contract":
        return _run(python, ROOT / ".ci" / "contract.py")
    code = 0
    for bench in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        code = _run(python, bench, *rest) or code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
