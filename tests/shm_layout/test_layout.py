"""Segments of one instance in real POSIX shared memory: mode, size, header, the
attach-time layout check, read-only attach, and clean-up."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import numpy as np
import posix_ipc
import pytest

from shm_layout import (
    LAYOUT_HASH,
    SEGMENT_BY_NAME,
    SEGMENTS,
    InstanceMemory,
    LayoutMismatch,
    SegmentMissing,
    SegmentNotReady,
    attach,
    create,
    records,
    segment_name,
    total_bytes,
)
from shm_layout import segments as segments_mod
from shm_layout.constants import CACHE_LINE, LAYOUT_VERSION, MAGIC, SEGMENT_HEADER_BYTES
from shm_layout.segments import KIND_RING
from shm_layout.shm import check_header, existing_segments

pytestmark = pytest.mark.timeout(60)

_counter = itertools.count()

def dev_shm_path(instance: str, name: str) -> str:
    return "/dev/shm" + segment_name(instance, name)


@pytest.fixture
def instance() -> Iterator[str]:
    """A pid-unique instance name whose segments are unlinked whatever happens."""
    name = f"test{os.getpid()}x{next(_counter)}"
    try:
        yield name
    finally:
        InstanceMemory.unlink_all(name)
        assert existing_segments(name) == []


@pytest.fixture
def mem(instance: str) -> Iterator[InstanceMemory]:
    m = InstanceMemory.create(instance, lock=False)
    try:
        yield m
    finally:
        m.close()


# --- sizes (pure layout) ----------------------------------------------------------


def test_records_when_declared_then_whole_cache_lines_with_seq_first():
    for name, dt in records.RECORDS.items():
        assert dt.itemsize % CACHE_LINE == 0, name
        if "seq" in dt.names:
            assert dt.fields["seq"][1] == 0 and dt.fields["seq"][0] == np.dtype("<i8"), name
    assert records.SEGMENT_HEADER.itemsize == SEGMENT_HEADER_BYTES


def test_segment_specs_when_sized_then_header_plus_body():
    for spec in SEGMENTS:
        ring_header = records.RING_HEADER.itemsize if spec.kind == KIND_RING else 0
        assert spec.body_offset == SEGMENT_HEADER_BYTES + ring_header
        assert spec.size_bytes == spec.body_offset + spec.record.itemsize * spec.n_records
        if spec.kind == KIND_RING:
            assert spec.n_records & (spec.n_records - 1) == 0, "ring capacity is a power of two"
    assert total_bytes() == sum(s.size_bytes for s in SEGMENTS)


def test_layout_hash_when_a_record_changes_then_differs(monkeypatch):
    assert segments_mod.layout_hash() == LAYOUT_HASH  # deterministic
    moved = np.dtype([("seq", "<i8"), ("x", "<f8")])
    monkeypatch.setitem(records.RECORDS, "market_params", moved)
    assert segments_mod.layout_hash() != LAYOUT_HASH


# --- create -------------------------------------------------------------------


def test_create_when_new_instance_then_every_segment_mode_0600_and_sized(instance, mem):
    for spec in SEGMENTS:
        st = os.stat(dev_shm_path(instance, spec.name))
        assert stat.S_IMODE(st.st_mode) == 0o600, spec.name
        assert st.st_uid == os.geteuid()
        assert st.st_size == spec.size_bytes, spec.name
    assert sorted(existing_segments(instance)) == sorted(s.name for s in SEGMENTS)


def test_create_when_umask_is_open_then_still_0600(instance):
    old = os.umask(0)
    try:
        seg = create(instance, SEGMENT_BY_NAME["params"], lock=False)
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(os.stat(dev_shm_path(instance, "params")).st_mode) == 0o600
    finally:
        seg.close()


def test_create_when_new_instance_then_header_fields_right(instance, mem):
    before = time.time_ns()
    for spec in SEGMENTS:
        seg = mem.segments[spec.name]
        h = seg.header[0]
        assert int(h["magic"]) == MAGIC
        assert int(h["layout_version"]) == LAYOUT_VERSION
        assert int(h["header_bytes"]) == SEGMENT_HEADER_BYTES
        assert int(h["layout_hash"]) == LAYOUT_HASH
        assert int(h["segment_kind"]) == spec.segment_id
        assert int(h["n_records"]) == spec.n_records
        assert int(h["record_bytes"]) == spec.record.itemsize
        assert int(h["body_offset"]) == spec.body_offset
        assert int(h["creator_pid"]) == os.getpid()
        assert 0 < before - int(h["created_ts_ns"]) < 60_000_000_000
        # the bytes on disk say the same as the typed view
        with open(dev_shm_path(instance, spec.name), "rb") as f:
            raw = f.read(SEGMENT_HEADER_BYTES)
        assert int.from_bytes(raw[:8], "little") == MAGIC
        assert np.frombuffer(raw, records.SEGMENT_HEADER)[0] == h
        assert seg.records.shape == (spec.n_records,)
        assert seg.records.dtype == spec.record
        assert seg.rows.shape == (spec.n_records, spec.record.itemsize)
        assert not seg.rows.any(), "body starts zeroed"
        if spec.kind == KIND_RING:
            rh = seg.ring_header[0]
            assert int(rh["head"]) == 0
            assert int(rh["capacity"]) == spec.n_records
            assert int(rh["mask"]) == spec.n_records - 1
            assert list(seg.ring_words[:3]) == [0, spec.n_records, spec.n_records - 1]


def test_create_when_segment_exists_then_refused_and_partial_work_undone(instance):
    squatter = create(instance, SEGMENT_BY_NAME["params"], lock=False)
    try:
        with pytest.raises(posix_ipc.ExistentialError):
            InstanceMemory.create(instance, lock=False)
        # the segments made before "params" were removed, the squatter was not
        assert existing_segments(instance) == ["params"]
    finally:
        squatter.close()


# --- attach: the layout check -----------------------------------------------------


def test_attach_when_created_then_same_memory(instance, mem):
    other = InstanceMemory.attach(instance)
    try:
        mem.params.records[3]["mid_px"] = 101.25
        assert other.params.records[3]["mid_px"] == 101.25
        other.md.ring_words[0] = 7
        assert int(mem.md.ring_header[0]["head"]) == 7
    finally:
        other.close()


@pytest.fixture
def params_seg(instance):
    seg = create(instance, SEGMENT_BY_NAME["params"], lock=False)
    try:
        yield seg
    finally:
        seg.close()


def test_check_header_when_hash_differs_then_message_names_both(params_seg):
    h = params_seg.header[0].copy()
    other_hash = LAYOUT_HASH ^ 0x5A5A_0000_0000_0001
    h["layout_hash"] = other_hash
    with pytest.raises(LayoutMismatch) as err:
        check_header("/mm.x.params", SEGMENT_BY_NAME["params"], h, params_seg.spec.size_bytes)
    assert f"{other_hash:#018x}" in str(err.value)
    assert f"{LAYOUT_HASH:#018x}" in str(err.value)


def test_check_header_when_version_differs_then_message_names_both(params_seg):
    h = params_seg.header[0].copy()
    h["layout_version"] = LAYOUT_VERSION + 41
    with pytest.raises(LayoutMismatch) as err:
        check_header("/mm.x.params", SEGMENT_BY_NAME["params"], h, params_seg.spec.size_bytes)
    assert f"v{LAYOUT_VERSION + 41}" in str(err.value)
    assert f"v{LAYOUT_VERSION} " in str(err.value)


def test_attach_when_hash_differs_then_layout_mismatch_names_both_hashes(instance, params_seg):
    other_hash = LAYOUT_HASH ^ 0x5A5A_0000_0000_0001
    params_seg.header[0]["layout_hash"] = other_hash
    with pytest.raises(LayoutMismatch) as err:
        attach(instance, "params")
    assert f"{other_hash:#018x}" in str(err.value)
    assert f"{LAYOUT_HASH:#018x}" in str(err.value)


def test_attach_when_version_differs_then_layout_mismatch_names_both_versions(
    instance, params_seg
):
    params_seg.header[0]["layout_version"] = LAYOUT_VERSION + 41
    with pytest.raises(LayoutMismatch) as err:
        attach(instance, "params")
    assert f"v{LAYOUT_VERSION + 41}" in str(err.value)
    assert f"v{LAYOUT_VERSION} " in str(err.value)


# The md segment as the build before issue 18 made it (levels as four arrays, whole copies)
PRE_ISSUE_18_VERSION, PRE_ISSUE_18_HASH = 1, 0x4A23C11285F41069


def test_attach_when_md_segment_from_before_interleaved_levels_then_refused_naming_both(instance):
    assert LAYOUT_HASH != PRE_ISSUE_18_HASH and LAYOUT_VERSION > PRE_ISSUE_18_VERSION
    seg = create(instance, SEGMENT_BY_NAME["md"], lock=False)
    try:
        seg.header[0]["layout_version"] = PRE_ISSUE_18_VERSION
        seg.header[0]["layout_hash"] = PRE_ISSUE_18_HASH
        with pytest.raises(LayoutMismatch) as err:
            attach(instance, "md")
    finally:
        seg.close()
    msg = str(err.value)
    assert f"v{PRE_ISSUE_18_VERSION} (hash {PRE_ISSUE_18_HASH:#018x})" in msg
    assert f"v{LAYOUT_VERSION} (hash {LAYOUT_HASH:#018x})" in msg


def test_attach_when_segment_kind_differs_then_layout_mismatch(instance, params_seg):
    params_seg.header[0]["segment_kind"] = SEGMENT_BY_NAME["ladder"].segment_id
    with pytest.raises(LayoutMismatch):
        attach(instance, "params")


def _foreign_segment(instance: str, name: str, size: int, fill: bytes) -> None:
    shm = posix_ipc.SharedMemory(
        segment_name(instance, name), flags=posix_ipc.O_CREX, mode=0o600, size=size
    )
    try:
        os.pwrite(shm.fd, fill * (size // len(fill)), 0)
    finally:
        shm.close_fd()


def test_attach_when_magic_is_not_ours_then_refused_as_not_appliance(instance):
    spec = SEGMENT_BY_NAME["params"]
    _foreign_segment(instance, "params", spec.size_bytes, b"\x11")
    with pytest.raises(LayoutMismatch, match="not an appliance segment"):
        attach(instance, "params")


def test_attach_when_foreign_segment_is_tiny_then_refused(instance):
    _foreign_segment(instance, "params", 16, b"\x00")
    with pytest.raises(LayoutMismatch, match="too small"):
        attach(instance, "params")


def test_attach_when_instance_missing_then_segment_missing(instance):
    with pytest.raises(SegmentMissing, match=instance):
        attach(instance, "params")
    with pytest.raises(SegmentMissing):
        InstanceMemory.attach(instance, writable=False)
    assert issubclass(SegmentMissing, FileNotFoundError)


def test_attach_when_one_segment_missing_then_nothing_left_mapped(instance):
    seg = create(instance, SEGMENT_BY_NAME["control"], lock=False)
    try:
        with pytest.raises(SegmentMissing, match="md"):
            InstanceMemory.attach(instance, names=["control", "md"])
    finally:
        seg.close()


# --- read-only attach -------------------------------------------------------------


def test_attach_read_only_when_writing_then_refused(instance, mem):
    mem.params.records[0]["mid_px"] = 42.0
    ro = InstanceMemory.attach(instance, writable=False)
    try:
        for seg in ro.segments.values():
            assert not seg.writable
            assert not seg.raw.flags.writeable
            with pytest.raises(ValueError):
                seg.raw.flags.writeable = True  # the buffer itself is read-only
            with pytest.raises(ValueError):
                seg.rows[0, 8] = 1
            with pytest.raises(TypeError):
                seg._mm[0:1] = b"x"
        with pytest.raises(ValueError):
            ro.params.records[0]["mid_px"] = 1.0
        assert ro.params.records[0]["mid_px"] == 42.0  # reading works
    finally:
        ro.close()


def test_attach_read_only_when_poked_through_a_pointer_then_the_process_faults(
    instance, mem, tmp_path
):
    """The mapping is PROT_READ: even a raw store (what numba would emit) faults."""
    script = tmp_path / "poke.py"
    script.write_text(textwrap.dedent(f"""
        import ctypes
        from shm_layout import attach
        seg = attach({instance!r}, "params", writable=False)
        print("attached", flush=True)
        ctypes.memset(seg.raw.ctypes.data + 128, 0xFF, 8)
        print("wrote", flush=True)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=30)
    assert "attached" in proc.stdout
    assert "wrote" not in proc.stdout
    assert proc.returncode == -11  # SIGSEGV
    assert not mem.params.raw[128:136].any()


# --- unlink -----------------------------------------------------------------------


def test_unlink_all_when_instance_exists_then_every_segment_gone(instance):
    m = InstanceMemory.create(instance, lock=False)
    m.close()
    assert sorted(InstanceMemory.unlink_all(instance)) == sorted(s.name for s in SEGMENTS)
    assert existing_segments(instance) == []
    for spec in SEGMENTS:
        assert not os.path.exists(dev_shm_path(instance, spec.name))
    with pytest.raises(SegmentMissing):
        attach(instance, "control")
    assert InstanceMemory.unlink_all(instance) == []


def test_unlink_all_when_still_mapped_then_mapping_survives_name_goes(instance):
    m = InstanceMemory.create(instance, lock=False)
    try:
        m.params.records[0]["mid_px"] = 7.0
        InstanceMemory.unlink_all(instance)
        assert existing_segments(instance) == []
        assert m.params.records[0]["mid_px"] == 7.0
    finally:
        m.close()


def test_unlink_all_when_other_instance_shares_prefix_then_it_is_kept(instance):
    mine = create(instance, SEGMENT_BY_NAME["params"], lock=False)
    neighbour = instance + "b"  # "mm.<instance>b.params" must not match "mm.<instance>."
    theirs = create(neighbour, SEGMENT_BY_NAME["params"], lock=False)
    try:
        assert InstanceMemory.unlink_all(instance) == ["params"]
        assert existing_segments(neighbour) == ["params"]
    finally:
        mine.close()
        theirs.close()
        InstanceMemory.unlink_all(neighbour)


def test_check_header_when_magic_still_zero_then_not_ready_a_kind_of_mismatch(params_seg):
    h = params_seg.header[0].copy()
    h["magic"] = 0  # created, its header not written yet (the creator writes the magic last)
    with pytest.raises(SegmentNotReady) as err:
        check_header("/mm.x.params", SEGMENT_BY_NAME["params"], h, params_seg.spec.size_bytes)
    assert isinstance(err.value, LayoutMismatch) and "magic 0" in str(err.value)


def test_attach_when_created_but_not_sized_then_not_ready_not_a_foreign_segment(instance):
    # a start under way: the creator's shm_open has run, its ftruncate not yet (0 bytes)
    shm = posix_ipc.SharedMemory(segment_name(instance, "control"), flags=posix_ipc.O_CREX,
                                 mode=0o600, size=0)
    shm.close_fd()
    try:
        with pytest.raises(SegmentNotReady, match="not sized yet"):
            attach(instance, "control", writable=False)
    finally:
        posix_ipc.unlink_shared_memory(segment_name(instance, "control"))
