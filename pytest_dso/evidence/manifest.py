"""``MANIFEST.sha256``: the SHA-256 of every file in an evidence folder, in the format of
``sha256sum`` (``<hex>  <relative path>``), so ``sha256sum -c MANIFEST.sha256`` works too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "MANIFEST.sha256"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.relative_to(folder).as_posix() != MANIFEST_NAME
    )


def write_manifest(folder: Path) -> Path:
    """Write ``MANIFEST.sha256`` for every file under ``folder`` (except itself)."""
    lines = [f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}" for p in _files(folder)]
    path = folder / MANIFEST_NAME
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ManifestProblem:
    """One way the folder differs from its manifest."""

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def verify_manifest(folder: Path) -> list[ManifestProblem]:
    """Check ``folder`` against its ``MANIFEST.sha256``: changed, missing and unlisted
    files, and malformed lines. Empty when everything matches."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return [ManifestProblem(MANIFEST_NAME, "missing: this folder has no manifest")]
    problems: list[ManifestProblem] = []
    listed: set[str] = set()
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        name = name.lstrip("*")
        pure = PurePosixPath(name)
        if (
            not sep
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
            or not name
            or pure.is_absolute()
            or ".." in pure.parts
        ):
            problems.append(ManifestProblem(f"{MANIFEST_NAME}:{number}", "malformed line"))
            continue
        listed.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(ManifestProblem(name, "listed in the manifest but missing"))
        elif sha256_file(path) != digest:
            problems.append(ManifestProblem(name, "changed since the manifest was written"))
    for path in _files(folder):
        name = path.relative_to(folder).as_posix()
        if name not in listed:
            problems.append(ManifestProblem(name, "not listed in the manifest (added later?)"))
    return problems
