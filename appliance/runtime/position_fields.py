"""A PositionState record as log fields: the position/P&L line of the risk watchdog
and the gateway's shutdown summary say the same things under the same names."""

from __future__ import annotations

import numpy as np

FLOAT_FIELDS = ("position_sz", "avg_entry_px", "mark_px", "realized_pnl_usd",
                "unrealized_pnl_usd", "fees_usd", "funding_usd", "total_pnl_usd", "volume_usd")
INT_FIELDS = ("n_fills", "orders_placed", "orders_cancelled", "requests_sent", "n_open_bids",
              "n_open_asks")


def position_fields(rec: np.void) -> dict:
    """Positions, prices and P&L (dollars) rounded for reading, and the counts."""
    out: dict = {k: round(float(rec[k]), 8) for k in FLOAT_FIELDS}
    out.update({k: int(rec[k]) for k in INT_FIELDS})
    return out


def totals(recs: list[np.void]) -> dict:
    """Over every coin: P&L, fees, volume and fills."""
    return {"total_pnl_usd": round(sum(float(r["total_pnl_usd"]) for r in recs), 8),
            "fees_usd": round(sum(float(r["fees_usd"]) for r in recs), 8),
            "volume_usd": round(sum(float(r["volume_usd"]) for r in recs), 8),
            "n_fills": sum(int(r["n_fills"]) for r in recs)}
