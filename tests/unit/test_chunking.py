"""Chunk planning, manifests, incremental planning and GC decisions (volplane.chunking)."""

from __future__ import annotations

import pytest

from volplane.chunking import (
    ChunkRef,
    FileIdentity,
    Manifest,
    Piece,
    Pin,
    Span,
    collectable,
    gc_cutoff,
    pin_alive,
    plan_chunks,
    plan_incremental,
    referenced,
    reusable_depth,
)

K = 1024
CS = 64 * K  # a small chunk size keeps the numbers readable


def digest(n: int) -> str:
    return f"{n:064x}"


def test_holes_and_zero_runs_are_never_planned() -> None:
    spans = [
        Span(0, 16 * K, 0, True, 1000),
        Span(16 * K, 200 * K, 1, False),  # hole / zeros
        Span(216 * K, 8 * K, 1, True, 5000),
    ]
    plans = plan_chunks(spans, 512 * K, CS)
    assert [p.offset for p in plans] == [0, 192 * K]
    assert plans[0].pieces == (Piece(0, 16 * K, 0, 1000),)
    assert plans[1].pieces == (Piece(24 * K, 8 * K, 1, 5000),)
    assert plans[1].data_bytes == 8 * K


def test_a_span_across_chunk_boundaries_is_cut_at_them() -> None:
    plans = plan_chunks([Span(60 * K, 72 * K, 0, True, 0)], 256 * K, CS)
    assert [(p.offset, p.pieces) for p in plans] == [
        (0, (Piece(60 * K, 4 * K, 0, 0),)),
        (64 * K, (Piece(0, 64 * K, 0, 4 * K),)),
        (128 * K, (Piece(0, 4 * K, 0, 68 * K),)),
    ]


def test_the_last_chunk_is_as_long_as_the_image_leaves() -> None:
    plans = plan_chunks([Span(128 * K, 8 * K, 0, True, 0)], 136 * K, CS)
    assert plans[0].length == 8 * K


def test_data_without_host_offset_cannot_be_planned() -> None:
    with pytest.raises(ValueError):
        plan_chunks([Span(0, K, 0, True, None)], CS, CS)


def manifest(chunks: list[ChunkRef], *, size: int = 256 * K, source: tuple = ()) -> Manifest:
    return Manifest("b1", size, CS, tuple(chunks), 1.0, source=source)


def test_manifest_round_trips_and_detects_tampering() -> None:
    original = manifest([ChunkRef(0, CS, digest(1)), ChunkRef(CS, CS, digest(2))])
    again = Manifest.from_json(original.to_json())
    assert again == original
    assert again.checksum == original.checksum
    tampered = original.to_json().replace(digest(2).encode(), digest(3).encode())
    with pytest.raises(ValueError, match="checksum"):
        Manifest.from_json(tampered)


def test_reusable_depth_finds_the_base_chain_unchanged_below_new_layers() -> None:
    s1, s0, top = FileIdentity(1, 10, 5, 7), FileIdentity(1, 11, 5, 7), FileIdentity(1, 12, 1, 1)
    assert reusable_depth([top, s1, s0], (s1, s0)) == 1
    assert reusable_depth([s1, s0], (s1, s0)) == 0
    changed = FileIdentity(1, 10, 5, 8)  # same file, written since
    assert reusable_depth([top, changed, s0], (s1, s0)) is None
    assert reusable_depth([top, s0], (s1, s0)) is None
    assert reusable_depth([top], ()) is None


def test_incremental_reads_only_chunks_touched_above_the_base() -> None:
    base = manifest([ChunkRef(0, CS, digest(1)), ChunkRef(CS, CS, digest(2))])
    spans = [
        Span(0, 2 * CS, 1, True, 0),  # base data, unchanged
        Span(2 * CS, K, 0, True, 0),  # new data in the top layer
        Span(2 * CS + K, 2 * CS - K, 1, False),
    ]
    plan = plan_incremental(spans, 4 * CS, CS, base, depth=1)
    assert [c.offset for c in plan.read] == [2 * CS]
    assert plan.reused == list(base.chunks)


def test_a_zero_write_above_the_base_makes_its_chunk_dirty() -> None:
    base = manifest([ChunkRef(0, CS, digest(1)), ChunkRef(CS, CS, digest(2))])
    spans = [
        Span(0, CS, 1, True, 0),
        Span(CS, CS, 0, False),  # zeroed in the top layer
        Span(2 * CS, 2 * CS, 1, False),
    ]
    plan = plan_incremental(spans, 4 * CS, CS, base, depth=1)
    assert plan.read == []  # nothing to read: the chunk is all zero now
    assert plan.reused == [ChunkRef(0, CS, digest(1))]


def test_without_a_usable_base_everything_allocated_is_read() -> None:
    base = manifest([ChunkRef(0, CS, digest(1))])
    spans = [Span(0, 2 * CS, 0, True, 0)]
    for plan in (
        plan_incremental(spans, 2 * CS, CS, None, None),
        plan_incremental(spans, 2 * CS, CS, base, None),
        plan_incremental(spans, 2 * CS, 2 * CS, base, 0),  # other chunking
    ):
        assert [c.offset for c in plan.read] == [0, CS][: len(plan.read)]
        assert plan.reused == []


def test_a_grown_image_rereads_the_base_tail() -> None:
    base = manifest([ChunkRef(0, CS, digest(1)), ChunkRef(CS, K, digest(2))], size=CS + K)
    spans = [Span(0, CS + K, 1, True, 0), Span(CS + K, 3 * CS - K, 1, False)]
    plan = plan_incremental(spans, 4 * CS, CS, base, depth=1)
    assert [c.offset for c in plan.read] == [CS]
    assert plan.reused == [ChunkRef(0, CS, digest(1))]


def test_gc_keeps_referenced_young_and_pinned_chunks() -> None:
    used = manifest([ChunkRef(0, CS, digest(1))])
    chunks = [(digest(1), 10.0), (digest(2), 10.0), (digest(3), 95.0), (digest(4), 50.0)]
    now = 100.0
    assert collectable(chunks, referenced([used]), gc_cutoff(now, 0, [])) == sorted(
        [digest(2), digest(3), digest(4)]
    )
    assert collectable(chunks, referenced([used]), gc_cutoff(now, 10, [])) == sorted(
        [digest(2), digest(4)]
    )
    # A backup pinned at t=40 may be reusing anything it touched since: only older goes.
    assert collectable(chunks, referenced([used]), gc_cutoff(now, 0, [40.0])) == [digest(2)]


def test_a_pin_lives_as_long_as_its_backup() -> None:
    # Written by a backup the store's own agent runs: alive while that process holds it.
    local = Pin(started=10.0, renewed=10.0, owner="agent-a")
    assert pin_alive(local, 1e9, instance="agent-a", held=True)
    assert not pin_alive(local, 11.0, instance="agent-a", held=False)
    # Left by an earlier (killed) run of the agent: dead at once, however young.
    assert not pin_alive(local, 11.0, instance="agent-b", held=True)
    # Written over HTTP by a backup on another host: alive while renewed within the lease.
    remote = Pin(started=10.0, renewed=90.0)
    assert pin_alive(remote, 100.0, instance="agent-a", held=False, lease=50.0)
    assert not pin_alive(remote, 141.0, instance="agent-a", held=False, lease=50.0)


def test_pin_files_round_trip_and_old_empty_pins_count_as_remote() -> None:
    pin = Pin(started=10.0, renewed=20.0, owner="agent-a")
    assert Pin.from_file(pin.to_json(), 20.0) == pin
    assert Pin.from_file(b"", 30.0) == Pin(started=30.0, renewed=30.0)
