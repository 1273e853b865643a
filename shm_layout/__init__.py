"""The only place a shared-memory byte layout is defined.

``constants`` sizes and codes, ``records`` the numpy dtypes of every ring slot and
block, ``segments`` the segment catalogue and layout hash, ``shm`` create/attach.
"""

from . import constants, records
from .segments import LAYOUT_HASH, SEGMENT_BY_NAME, SEGMENTS, segment_name, total_bytes
from .shm import (
    InstanceMemory,
    LayoutMismatch,
    Segment,
    SegmentMissing,
    SegmentNotReady,
    attach,
    create,
    unlink,
)

__all__ = [
    "LAYOUT_HASH",
    "SEGMENTS",
    "SEGMENT_BY_NAME",
    "InstanceMemory",
    "LayoutMismatch",
    "Segment",
    "SegmentMissing",
    "SegmentNotReady",
    "attach",
    "constants",
    "create",
    "records",
    "segment_name",
    "total_bytes",
    "unlink",
]
