"""The segments of one appliance instance, their sizes, and the layout hash.

Byte layout of a segment ``/mm.<instance>.<name>``::

    0        64                128
    | header | ring header     | slot 0 | slot 1 | ... |      (kind "ring")
    | header | record 0 | record 1 | ...                      (kind "blocks")

The header (``records.SEGMENT_HEADER``) carries the magic, the layout version and
the layout hash; an attacher refuses any mismatch.
"""

from dataclasses import dataclass

import numpy as np

from . import records
from .constants import (
    FILL_RING_SLOTS,
    LAYOUT_VERSION,
    MAX_COINS,
    MD_RING_SLOTS,
    MODEL_NAMES,
    ORDER_RING_SLOTS,
    SCORE_METRIC_NAMES,
    SEGMENT_HEADER_BYTES,
    USER_RING_SLOTS,
)
from .describe import describe, text_hash

KIND_BLOCKS = 1
KIND_RING = 2


@dataclass(frozen=True)
class SegmentSpec:
    name: str
    kind: int  # KIND_BLOCKS or KIND_RING
    record: np.dtype
    n_records: int
    segment_id: int

    @property
    def body_offset(self) -> int:
        return SEGMENT_HEADER_BYTES + (records.RING_HEADER.itemsize if self.kind == KIND_RING else 0)

    @property
    def size_bytes(self) -> int:
        return self.body_offset + self.record.itemsize * self.n_records


SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec("control", KIND_BLOCKS, records.CONTROL, 1, 1),
    SegmentSpec("md", KIND_RING, records.MD_EVENT, MD_RING_SLOTS, 2),
    SegmentSpec("fills", KIND_RING, records.FILL_EVENT, FILL_RING_SLOTS, 3),
    SegmentSpec("params", KIND_BLOCKS, records.MARKET_PARAMS, MAX_COINS, 4),
    SegmentSpec("ladder", KIND_BLOCKS, records.TARGET_LADDER, MAX_COINS, 5),
    SegmentSpec("position", KIND_BLOCKS, records.POSITION_STATE, MAX_COINS, 6),
    SegmentSpec("estate", KIND_BLOCKS, records.ESTIMATOR_BLOCK, MAX_COINS, 7),
    SegmentSpec("qstate", KIND_BLOCKS, records.KERNEL_STATE, MAX_COINS, 8),
    SegmentSpec("user_ring", KIND_RING, records.USER_EVENT, USER_RING_SLOTS, 9),
    SegmentSpec("orders", KIND_RING, records.ORDER_EVENT, ORDER_RING_SLOTS, 10),
    SegmentSpec("scores", KIND_BLOCKS, records.MODEL_SCORES, MAX_COINS, 11),
    SegmentSpec("attrib", KIND_BLOCKS, records.ATTRIBUTION_STATE, MAX_COINS, 12),
)
SEGMENT_BY_NAME = {s.name: s for s in SEGMENTS}


def layout_description() -> str:
    lines = [f"version={LAYOUT_VERSION}"]
    for name, dt in sorted(records.RECORDS.items()):
        lines.append(f"{name}={describe(dt)}")
    for s in SEGMENTS:
        lines.append(f"segment {s.name} kind={s.kind} id={s.segment_id} n={s.n_records}")
    # the scores block's arrays are indexed by these names: their order is layout too
    lines.append("models=" + ",".join(MODEL_NAMES))
    lines.append("score_metrics=" + ",".join(SCORE_METRIC_NAMES))
    return "\n".join(lines)


def layout_hash() -> int:
    """The hash of ``layout_description()``: every record (the estimator state record
    with each estimator's fields included) and every segment."""
    return text_hash(layout_description())


LAYOUT_HASH: int = layout_hash()


def segment_name(instance: str, name: str) -> str:
    return f"/mm.{instance}.{name}"


def total_bytes() -> int:
    return sum(s.size_bytes for s in SEGMENTS)
