"""Deterministic, streamed, PDF-shaped bijlagen."""

from __future__ import annotations

import hashlib
import io

import pytest

from pytest_dso.stam.bijlagen import (
    BLOCK_SIZE,
    CACHED_SIZE,
    DEFAULT_MAX_SIZE,
    DEFAULT_MIN_SIZE,
    MIN_SIZE,
    BijlageSpec,
    spec_for,
)


def test_exact_size_and_pdf_shape() -> None:
    spec = BijlageSpec(seed=1, size=200_000)
    data = spec.read()
    assert len(data) == 200_000
    assert data.startswith(b"%PDF-1.7\n")
    assert data.endswith(b"%%EOF\n")
    assert b"/Length 0000199866" in data[:100]


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert BijlageSpec(5, 10_000).read() == BijlageSpec(5, 10_000).read()
    assert BijlageSpec(5, 10_000).read() != BijlageSpec(6, 10_000).read()


def test_sha256_and_metadata() -> None:
    spec = BijlageSpec(9, 150_000, "tekening.pdf")
    meta = spec.bijlage("doc-9")
    assert meta.sha256 == hashlib.sha256(spec.read()).hexdigest()
    assert (meta.document_id, meta.bestandsnaam, meta.size) == ("doc-9", "tekening.pdf", 150_000)
    assert BijlageSpec(9, 150_000).filename == "bijlage-9.pdf"


def test_streamed_in_bounded_blocks() -> None:
    spec = BijlageSpec(2, 2_000_000)
    sizes = [len(c) for c in spec.chunks()]
    assert max(sizes) <= BLOCK_SIZE
    assert sum(sizes) == 2_000_000
    target = io.BytesIO()
    assert spec.write_to(target) == 2_000_000


def test_sizes_are_realistic_by_default() -> None:
    sizes = [spec_for(seed).size for seed in range(50)]
    assert all(DEFAULT_MIN_SIZE <= s <= DEFAULT_MAX_SIZE for s in sizes)
    assert len(set(sizes)) > 40
    assert spec_for(3) == spec_for(3)


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        BijlageSpec(1, MIN_SIZE - 1)
    with pytest.raises(ValueError, match="below"):
        spec_for(1, min_size=10, max_size=5)


@pytest.mark.parametrize("size", [MIN_SIZE, 48_000, CACHED_SIZE, CACHED_SIZE + 1, 700_000])
def test_small_documents_served_from_kept_blocks_equal_freshly_generated_ones(size: int) -> None:
    spec = BijlageSpec(seed=9100 + size % 97, size=size)
    fresh = list(spec._generate())
    first, again = list(spec.chunks()), list(spec.chunks())
    assert first == again == fresh  # the same bytes in the same blocks, every time
    assert max(len(block) for block in fresh) <= BLOCK_SIZE
    assert sum(map(len, first)) == size
    assert spec.sha256() == hashlib.sha256(b"".join(fresh)).hexdigest()
    shared = next(spec.chunks()) is next(spec.chunks())  # kept blocks are the same objects
    assert shared is (size <= CACHED_SIZE)
