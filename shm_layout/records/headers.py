"""The first bytes of every segment and of every ring: the segment header (magic,
layout version and hash, what the body holds) and the ring's published cursor; and
``padded``, the cache-line rounding every record uses."""

import numpy as np

from ..constants import CACHE_LINE


def padded(fields: list, line: int = CACHE_LINE) -> np.dtype:
    """An aligned structured dtype whose size is rounded up to whole cache lines."""
    base = np.dtype(fields, align=True)
    size = -(-base.itemsize // line) * line
    return np.dtype(
        {
            "names": base.names,
            "formats": [base.fields[n][0] for n in base.names],
            "offsets": [base.fields[n][1] for n in base.names],
            "itemsize": size,
        },
        align=True,
    )


# --- segment header: the first cache line of every segment ---------------------
SEGMENT_HEADER = np.dtype(
    {
        "names": [
            "magic", "layout_version", "header_bytes", "layout_hash", "segment_kind",
            "n_records", "record_bytes", "body_offset", "created_ts_ns", "creator_pid",
        ],
        "formats": ["<u8", "<u4", "<u4", "<u8", "<u4", "<u4", "<u4", "<u4", "<i8", "<i8"],
        "offsets": [0, 8, 12, 16, 24, 28, 32, 36, 40, 48],
        "itemsize": 64,
    }
)

# --- ring header: the writer's published cursor on its own line ----------------
RING_HEADER = padded(
    [
        ("head", "<i8"),  # last published sequence (0 = none yet)
        ("capacity", "<i8"),
        ("mask", "<i8"),
        ("_pad0", "u1", (40,)),
        ("last_pub_mono_ns", "<i8"),  # when head last moved (staleness of the source)
        ("writer_pid", "<i8"),
    ]
)
