"""The report's ``instrument``: the replayed market's facts and how P&L is expressed.

The backtest simulates our quoting, in coin sizes, with the fees of ``[gateway]`` (the
venue we trade), against the replayed market; the market's own facts (tick, lot,
contract size, fees) come from the instrument table (``feed/sources/instruments.py``)
and are reported beside them, not applied.

P&L is booked in USD as for a linear contract. On an inverse (coin-margined) market the
same fills, as contracts (``sz x px / contract_usd``), have a P&L in coin of
``sum side x sz x (1 - px / mark)``, which is the USD trading P&L divided by the final
mark, exactly; fees in coin are each fill's fee at its own price. ``pnl_coin`` is that.
"""

from __future__ import annotations

import math

import numpy as np

from appliance.config import Config


def instrument_block(inst: dict | None, report: dict, fills: np.ndarray, cfg: Config) -> dict:
    """The JSON-ready ``instrument`` block; ``inst`` the source's instrument facts (None
    for a synthetic market)."""
    out: dict = {"facts": inst, "pnl_currency": "USD",
                 "fees_applied_bps": {"maker": cfg.gateway.maker_fee_bps,
                                      "taker": cfg.gateway.taker_fee_bps},
                 "fees_applied_from": "[gateway] (the venue simulated), not the instrument's"}
    if inst is None:
        return out
    out["sizes"] = ("coin" if not inst["contract_usd"] else
                    f"coin, from contracts of {inst['contract_usd']:g} USD at each price "
                    "(contracts x contract_usd / px)")
    if inst["inverse"]:
        mark = float(report["attribution"]["final_mark_px"])
        pnl = report["pnl"]
        fees_usd = float(report["fees"])
        fees_coin = float((fills["fee_usd"] / fills["px"]).sum()) if fills.shape[0] else 0.0
        ok = pnl is not None and mark > 0 and math.isfinite(mark)
        out["pnl_coin"] = ((pnl + fees_usd) / mark - fees_coin) if ok else None
        out["pnl_note"] = ("inverse: the instrument settles in coin; pnl is the USD P&L of "
                           "the same fills as a linear contract, pnl_coin their P&L as "
                           "inverse contracts, valued at the final mark "
                           f"{mark:g} (fees at each fill's price)")
    return out
