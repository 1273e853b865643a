"""Create, attach and unlink POSIX shared-memory segments of one instance.

Only the supervisor creates and unlinks; processes attach read-write and
``mmctl inspect`` attaches read-only. Every attach checks the header.
"""

import ctypes
import mmap
import os
import resource
import time

import numpy as np
import posix_ipc

from . import estimators, records
from .constants import LAYOUT_VERSION, MAGIC, SEGMENT_HEADER_BYTES
from .segments import KIND_RING, LAYOUT_HASH, SEGMENT_BY_NAME, SEGMENTS, SegmentSpec, segment_name

PAGE = mmap.PAGESIZE
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mlock.argtypes = (ctypes.c_void_p, ctypes.c_size_t)


class LayoutMismatch(RuntimeError):
    """A segment exists but was made by another layout (or is not ours)."""


class SegmentNotReady(LayoutMismatch):
    """A segment whose header is still zero: its creator has not written it yet (the
    magic is written last), or died while making it."""


class SegmentMissing(FileNotFoundError):
    """The instance has no such segment: it is not running."""


class Segment:
    """A mapped segment with typed numpy views over its bytes.

    ``records`` is the structured array of ring slots or blocks; ``seqs`` is the
    int64 view of their ``seq`` fields that the ordering intrinsics work on;
    ``rows`` is the same memory as (n_records, record_bytes) uint8 for byte copies.
    """

    _mm: mmap.mmap | None = None  # class-level default: close() is safe after a failed open
    locked = False

    def __init__(self, spec: SegmentSpec, instance: str, mm: mmap.mmap, writable: bool):
        self.spec = spec
        self.instance = instance
        self.name = segment_name(instance, spec.name)
        self.writable = writable
        self._mm = mm
        raw = np.frombuffer(mm, dtype=np.uint8)
        if not writable:
            raw = raw.view()
            raw.flags.writeable = False
        self.raw = raw
        self.header = raw[:SEGMENT_HEADER_BYTES].view(records.SEGMENT_HEADER)
        body = raw[spec.body_offset : spec.body_offset + spec.record.itemsize * spec.n_records]
        self.records = body.view(spec.record)
        self.rows = body.reshape(spec.n_records, spec.record.itemsize)
        self.seqs = self.records["seq"] if "seq" in spec.record.names else None
        if spec.kind == KIND_RING:
            self.ring_header = raw[SEGMENT_HEADER_BYTES : spec.body_offset].view(records.RING_HEADER)
            # int64 words of the ring header: [0] head, [1] capacity, [2] mask
            self.ring_words = raw[SEGMENT_HEADER_BYTES : spec.body_offset].view(np.int64)
        else:
            self.ring_header = None
            self.ring_words = None

    def close(self) -> None:
        """Drop this process's mapping; the segment itself stays (see ``unlink``)."""
        if self._mm is not None:
            self.raw = self.header = self.records = self.rows = self.seqs = None
            self.ring_header = self.ring_words = None
            try:
                self._mm.close()
            except BufferError:
                # A view still exported elsewhere keeps the mapping alive; the
                # kernel unmaps it when the last reference goes.
                pass
            self._mm = None


def _mlock(seg: Segment) -> bool:
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if os.geteuid() != 0 and soft != resource.RLIM_INFINITY and soft < seg.spec.size_bytes:
        return False
    return _libc.mlock(seg.raw.ctypes.data, seg.spec.size_bytes) == 0


def _map(fd: int, size: int, writable: bool) -> mmap.mmap:
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)  # prefault this mapping
    return mmap.mmap(fd, size, flags=flags, prot=prot)


def create(instance: str, spec: SegmentSpec, lock: bool = True) -> Segment:
    """Create a zeroed, prefaulted segment (mode 0600) and write its header."""
    shm = posix_ipc.SharedMemory(
        segment_name(instance, spec.name), flags=posix_ipc.O_CREX, mode=0o600, size=spec.size_bytes
    )
    try:
        mm = _map(shm.fd, spec.size_bytes, True)
    finally:
        shm.close_fd()
    seg = Segment(spec, instance, mm, True)
    seg.raw[::PAGE] = 0  # touch every page now: a first touch costs microseconds later
    h = seg.header[0]
    h["layout_version"] = LAYOUT_VERSION
    h["header_bytes"] = SEGMENT_HEADER_BYTES
    h["layout_hash"] = LAYOUT_HASH
    h["segment_kind"] = spec.segment_id
    h["n_records"] = spec.n_records
    h["record_bytes"] = spec.record.itemsize
    h["body_offset"] = spec.body_offset
    h["created_ts_ns"] = time.time_ns()
    h["creator_pid"] = os.getpid()
    if spec.kind == KIND_RING:
        seg.ring_header[0]["capacity"] = spec.n_records
        seg.ring_header[0]["mask"] = spec.n_records - 1
    h["magic"] = MAGIC  # last: a half-made segment never looks valid
    seg.locked = _mlock(seg) if lock else False
    return seg


def check_header(seg_name: str, spec: SegmentSpec, header: np.void, size: int) -> None:
    """Raise LayoutMismatch naming both layouts if the segment is not ours."""
    found_version = int(header["layout_version"])
    found_hash = int(header["layout_hash"])
    if int(header["magic"]) == 0:
        raise SegmentNotReady(f"{seg_name}: created but its header not written yet (magic 0)")
    if int(header["magic"]) != MAGIC:
        raise LayoutMismatch(
            f"{seg_name}: not an appliance segment (magic {int(header['magic']):#x}, "
            f"expected {MAGIC:#x}); remove it or pick another --instance"
        )
    if (
        found_version != LAYOUT_VERSION
        or found_hash != LAYOUT_HASH
        or int(header["segment_kind"]) != spec.segment_id
        or size < spec.size_bytes
    ):
        raise LayoutMismatch(
            f"{seg_name}: made by layout v{found_version} (hash {found_hash:#018x}), "
            f"this build is layout v{LAYOUT_VERSION} (hash {LAYOUT_HASH:#018x}); "
            "stop the appliance that owns it with the build that started it, "
            "or run this build under another --instance"
        )


def estimator_layout_changes(instance: str) -> list[str]:
    """The estimators whose state layout in this instance's ``estate`` segment differs
    from this build's, read from the layout directory of its first block (at
    ``records.LAYOUT_DIRECTORY_OFFSET``, the same in every build); empty when there
    is no such segment or directory."""
    try:
        shm = posix_ipc.SharedMemory(segment_name(instance, "estate"), read_only=True)
    except posix_ipc.ExistentialError:
        return []
    try:
        start = SEGMENT_HEADER_BYTES + records.LAYOUT_DIRECTORY_OFFSET
        end = start + estimators.LAYOUT_ENTRY.itemsize * estimators.MAX_ESTIMATORS
        if shm.size < end:
            return []
        with mmap.mmap(shm.fd, end, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ) as mm:
            stored = np.frombuffer(mm[start:end], dtype=estimators.LAYOUT_ENTRY).copy()
    finally:
        shm.close_fd()
    if not stored["name"].any():
        return []  # the estimator never wrote its state
    return estimators.changed_estimators(stored)


def attach(instance: str, spec: SegmentSpec | str, writable: bool = True, lock: bool = False) -> Segment:
    """Map an existing segment after checking magic, version and layout hash."""
    if isinstance(spec, str):
        spec = SEGMENT_BY_NAME[spec]
    name = segment_name(instance, spec.name)
    try:
        shm = posix_ipc.SharedMemory(name, read_only=not writable)
    except posix_ipc.ExistentialError as e:
        raise SegmentMissing(f"{name} does not exist: is instance '{instance}' running?") from e
    try:
        size = shm.size
        if size == 0:  # between the creator's shm_open and its ftruncate (a start under way)
            raise SegmentNotReady(f"{name}: created but not sized yet (0 bytes)")
        if size < SEGMENT_HEADER_BYTES:
            raise LayoutMismatch(f"{name}: {size} bytes, too small to be an appliance segment")
        mm = _map(shm.fd, size, writable)
    finally:
        shm.close_fd()
    # A copy of the header bytes: a view would pin the mapping and make close() fail.
    header = np.frombuffer(mm[:SEGMENT_HEADER_BYTES], dtype=records.SEGMENT_HEADER)[0]
    try:
        check_header(name, spec, header, size)
    except LayoutMismatch as err:
        mm.close()
        changed = estimator_layout_changes(instance)
        if changed:
            raise LayoutMismatch(f"{err}; estimator state layout changed: {'; '.join(changed)}") from None
        raise
    seg = Segment(spec, instance, mm, writable)
    seg.locked = _mlock(seg) if lock else False
    return seg


def unlink(instance: str, name: str) -> bool:
    try:
        posix_ipc.unlink_shared_memory(segment_name(instance, name))
        return True
    except posix_ipc.ExistentialError:
        return False


def existing_segments(instance: str) -> list[str]:
    """Names (without prefix) of this instance's segments present in /dev/shm."""
    prefix = f"mm.{instance}."
    try:
        entries = os.listdir("/dev/shm")
    except FileNotFoundError:
        return []
    return sorted(e[len(prefix) :] for e in entries if e.startswith(prefix))


class InstanceMemory:
    """All segments of one instance, by name: ``mem.md``, ``mem.params`` ..."""

    def __init__(self, segments: dict[str, Segment]):
        self.segments = segments
        for name, seg in segments.items():
            setattr(self, name, seg)

    @classmethod
    def create(cls, instance: str, lock: bool = True) -> "InstanceMemory":
        made: dict[str, Segment] = {}
        try:
            for spec in SEGMENTS:
                made[spec.name] = create(instance, spec, lock=lock)
        except BaseException:
            for name, seg in made.items():
                seg.close()
                unlink(instance, name)
            raise
        return cls(made)

    @classmethod
    def attach(cls, instance: str, writable: bool = True, names=None, lock: bool = False) -> "InstanceMemory":
        wanted = [SEGMENT_BY_NAME[n] for n in names] if names else list(SEGMENTS)
        got: dict[str, Segment] = {}
        try:
            for spec in wanted:
                got[spec.name] = attach(instance, spec, writable=writable, lock=lock)
        except BaseException:
            for seg in got.values():
                seg.close()
            raise
        return cls(got)

    @property
    def locked(self) -> bool:
        return all(s.locked for s in self.segments.values())

    def close(self) -> None:
        for seg in self.segments.values():
            seg.close()

    @staticmethod
    def unlink_all(instance: str) -> list[str]:
        return [n for n in existing_segments(instance) if unlink(instance, n)]
