"""Every record that lives in shared memory, as numpy structured dtypes.

Conventions
-----------
* Every ring slot and every seqlock block starts with ``seq`` (int64) at offset 0.
  Ring slot: ``seq == n`` once event n is published, ``-n`` while it is written.
  Seqlock block: ``seq`` odd while the writer is inside, even when stable.
* Records are padded to whole cache lines so two writers never share a line.
* Prices in quote currency (USD), sizes in coin units (``_sz``), times in integer
  nanoseconds: ``*_ts_ns`` wall clock (CLOCK_REALTIME), ``*_mono_ns`` CLOCK_MONOTONIC,
  which all processes of one host share and which latency is measured on.

One module per segment family (``headers``, ``rings``, ``market_params``,
``ladder_position``, ``reports``, ``kernel_state``, ``control``); this package exports
every record, and ``RECORDS``, the set the segment catalogue hashes as one layout.
Estimator state is declared apart, in ``shm_layout/estimators/``.
"""

from .control import CONTROL, PROC_SLOT
from .headers import RING_HEADER, SEGMENT_HEADER, padded
from .kernel_state import ESTIMATOR_BLOCK, KERNEL_STATE, LAYOUT_DIRECTORY_OFFSET
from .ladder_position import POSITION_STATE, TARGET_LADDER
from .market_params import MARKET_PARAMS
from .reports import ATTRIBUTION_STATE, MODEL_SCORES
from .rings import (
    FILL_EVENT,
    MD_COLUMNS,
    MD_EVENT,
    MD_LEVEL,
    MD_LEVEL_BYTES,
    MD_LEVEL_FIELDS,
    MD_LEVELS_AT,
    ORDER_EVENT,
    USER_EVENT,
    md_field,
    md_used_bytes,
)

RECORDS = {
    "segment_header": SEGMENT_HEADER,
    "ring_header": RING_HEADER,
    "md_event": MD_EVENT,
    "fill_event": FILL_EVENT,
    "user_event": USER_EVENT,
    "market_params": MARKET_PARAMS,
    "target_ladder": TARGET_LADDER,
    "position_state": POSITION_STATE,
    "attribution_state": ATTRIBUTION_STATE,
    "kernel_state": KERNEL_STATE,
    "estimator_block": ESTIMATOR_BLOCK,
    "proc_slot": PROC_SLOT,
    "control": CONTROL,
    "order_event": ORDER_EVENT,
    "model_scores": MODEL_SCORES,
}

__all__ = [
    "ATTRIBUTION_STATE", "CONTROL", "ESTIMATOR_BLOCK", "FILL_EVENT", "KERNEL_STATE",
    "LAYOUT_DIRECTORY_OFFSET", "MARKET_PARAMS", "MD_COLUMNS", "MD_EVENT", "MD_LEVEL",
    "MD_LEVEL_BYTES", "MD_LEVEL_FIELDS", "MD_LEVELS_AT", "MODEL_SCORES", "ORDER_EVENT",
    "POSITION_STATE", "PROC_SLOT", "RECORDS", "RING_HEADER", "SEGMENT_HEADER", "TARGET_LADDER",
    "USER_EVENT", "md_field", "md_used_bytes", "padded",
]
