"""Deterministic bijlagen (attached documents) of realistic size, generated as a stream.

A :class:`BijlageSpec` is a seed and a size; its bytes are PDF-shaped (a ``%PDF-1.7`` header,
one binary stream object, a trailer and ``%%EOF``) with pseudo-random content, so they do not
compress, like real scanned PDFs. The same spec always gives the same bytes, so the simulator
can store the spec (a few bytes) instead of the document and regenerate it on every download.
Content is produced in blocks of :data:`BLOCK_SIZE`; nothing holds the whole document unless
:meth:`BijlageSpec.read` is called, except the blocks of a few small documents
(:data:`CACHED_SIZE`), which are served again on every download.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pytest_dso.stam.model import Bijlage

#: Size of the generated blocks (the output does not depend on how it is consumed).
BLOCK_SIZE = 64 * 1024
#: Documents up to this size keep their generated blocks (at most :data:`CACHED_DOCUMENTS` of
#: them, so at most 8 MiB); larger ones are generated anew on every read, block by block.
CACHED_SIZE = 256 * 1024
CACHED_DOCUMENTS = 32
#: Default size range of a generated bijlage: 50 KB to 2 MB.
DEFAULT_MIN_SIZE = 50_000
DEFAULT_MAX_SIZE = 2_000_000

_TRAILER = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R /Size 2 >>\n%%EOF\n"


def _header(body_length: int) -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Length " + str(body_length).encode() + b" /Filter /FlateDecode >>\nstream\n"
    )


#: The smallest size a spec can have (header and trailer around an empty stream).
MIN_SIZE = len(_header(10**9)) + len(_TRAILER)


@dataclass(frozen=True)
class BijlageSpec:
    """A reproducible document: ``size`` bytes derived from ``seed``."""

    seed: int
    size: int
    bestandsnaam: str = ""
    mediatype: str = "application/pdf"

    def __post_init__(self) -> None:
        if self.size < MIN_SIZE:
            raise ValueError(
                f"a generated bijlage needs at least {MIN_SIZE} bytes, not {self.size}"
            )

    @property
    def filename(self) -> str:
        """``bestandsnaam`` or ``bijlage-<seed>.pdf``."""
        return self.bestandsnaam or f"bijlage-{self.seed}.pdf"

    def chunks(self) -> Iterator[bytes]:
        """The document's bytes in blocks of at most :data:`BLOCK_SIZE` (a document of at
        most :data:`CACHED_SIZE` bytes is generated once and its blocks kept)."""
        if self.size > CACHED_SIZE:
            return self._generate()
        return iter(_cached_blocks(self.seed, self.size))

    def _generate(self) -> Iterator[bytes]:
        body_length = self.size - MIN_SIZE
        header = _header(10**9)
        # Pad the /Length field so the header length does not depend on the body length.
        length_text = str(body_length).encode().rjust(10, b"0")
        yield header.replace(b"1000000000", length_text, 1)
        rng = random.Random(self.seed)
        remaining = body_length
        while remaining > 0:
            block = rng.randbytes(min(BLOCK_SIZE, remaining))
            remaining -= len(block)
            yield block
        yield _TRAILER

    def read(self) -> bytes:
        """The whole document in memory (for small documents and tests)."""
        return b"".join(self.chunks())

    def write_to(self, target: BinaryIO) -> int:
        """Write the document to ``target``; returns the number of bytes written."""
        written = 0
        for chunk in self.chunks():
            target.write(chunk)
            written += len(chunk)
        return written

    def sha256(self) -> str:
        """Hex SHA-256 of the document, computed while streaming (memoised per seed and size,
        since the bytes depend on nothing else)."""
        return _digest(self.seed, self.size)

    def bijlage(self, document_id: str) -> Bijlage:
        """The :class:`Bijlage` metadata (size and SHA-256) for this document."""
        return Bijlage(
            document_id=document_id,
            bestandsnaam=self.filename,
            mediatype=self.mediatype,
            size=self.size,
            sha256=self.sha256(),
        )


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def _cached_blocks(seed: int, size: int) -> tuple[bytes, ...]:
    """The blocks of a small document, generated once (the same for every download)."""
    return tuple(BijlageSpec(seed, size)._generate())


@functools.lru_cache(maxsize=4096)
def _digest(seed: int, size: int) -> str:
    digest = hashlib.sha256()
    for chunk in BijlageSpec(seed, size).chunks():
        digest.update(chunk)
    return digest.hexdigest()


def spec_for(
    seed: int,
    *,
    min_size: int = DEFAULT_MIN_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    bestandsnaam: str = "",
) -> BijlageSpec:
    """A spec whose size is drawn (deterministically from ``seed``) in ``min_size..max_size``."""
    low = max(min_size, MIN_SIZE)
    if max_size < low:
        raise ValueError(f"max_size {max_size} is below the minimum {low}")
    size = random.Random(f"size:{seed}").randint(low, max_size)
    return BijlageSpec(seed=seed, size=size, bestandsnaam=bestandsnaam)
