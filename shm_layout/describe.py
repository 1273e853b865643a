"""A dtype's byte layout as text and as a 64-bit hash (names, formats, shapes, offsets,
item size, nested records included): what the layout hashes are computed from."""

import hashlib

import numpy as np


def describe(dt: np.dtype) -> str:
    """Every byte-relevant fact of a dtype: names, formats, offsets, itemsize."""
    if dt.names is None:
        return f"{dt.base.str}{dt.shape}" if dt.subdtype is not None else f"{dt.str}{dt.shape}"
    parts = []
    for name in dt.names:
        sub, offset = dt.fields[name][:2]
        inner = describe(sub.base) if sub.base.names else sub.base.str
        parts.append(f"{name}:{inner}{sub.shape}@{offset}")
    return "{" + ",".join(parts) + f"}}#{dt.itemsize}"


def text_hash(text: str) -> int:
    """The first 8 bytes of the text's SHA-256, little-endian."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def dtype_hash(dt: np.dtype) -> int:
    return text_hash(describe(dt))
