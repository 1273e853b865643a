"""Decimal strings as the real API writes them.

Prices and sizes print like the venue's own numbers: at most 8 decimals, trailing
zeros dropped, but at least one decimal ("30135.0", "0.0", "2.111"). Amounts in
error texts print without the ".0" (``$1000000``, ``$167.22``).
"""

from __future__ import annotations

import math
from decimal import Decimal


def dec(x: float, decimals: int = 8) -> str:
    """A float as the API's decimal string: ``30135.0``, ``0.0147``, ``-1.5``."""
    if not math.isfinite(x):
        return "0.0"
    s = f"{x:.{decimals}f}".rstrip("0")
    if s.endswith("."):
        s += "0"
    if s in ("-0.0", "-0"):
        return "0.0"
    return s


def dec_or_none(x: float | None, decimals: int = 8) -> str | None:
    if x is None or not math.isfinite(x) or x == 0.0:
        return None
    return dec(x, decimals)


def usd_plain(x: float) -> str:
    """An amount without trailing zeros nor a trailing point: 0 -> "0", 129582.40 -> "129582.4"."""
    d = Decimal(f"{x:.6f}").normalize()
    s = f"{d:f}"
    return "0" if s in ("-0", "0") else s
