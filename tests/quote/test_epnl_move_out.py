"""Issue 16: with ``quote.epnl_move_out`` a level whose E[PnL] is not positive where
GLFT put it moves out to the depth where it is, instead of leaving the ladder, so a
side stays quoted (deeper) while a depth-independent term (inventory, drift, carry) or
a raised AS makes its GLFT levels lose; off, the level is dropped as before."""

import numpy as np
from quote_helpers import MAX_POS, bid_depth_bps, cfg_vector, ladder

LONG = 0.8 * MAX_POS  # every bid's inventory penalty exceeds its edge where GLFT puts it


def _cfg(move_out: bool, **kw):
    # the E[PnL] term alone: the soft limit would size the bids to zero first
    return cfg_vector(epnl_move_out=move_out, inventory_soft_limit_frac=1.0, **kw)


def test_move_out_when_inventory_makes_bids_lose_then_bids_stay_deeper_with_positive_epnl():
    dropped = ladder(position_sz=LONG, cfg=_cfg(False))[1]
    assert dropped["n_bids"] == 0 and dropped["epnl_dropped_bids"] > 0
    moved = ladder(position_sz=LONG, cfg=_cfg(True))[1]
    n = moved["n_bids"]
    assert n > 0 and (moved["bid_epnl_bps"][:n] > 0).all()
    assert bid_depth_bps(moved) > bid_depth_bps(ladder(cfg=_cfg(True))[1])  # deeper than flat
    assert (np.diff(moved["bid_px"][:n]) < 0).all()  # still strictly ordered, best first


def test_move_out_when_levels_already_pay_then_the_ladder_is_unchanged():
    on = ladder(cfg=_cfg(True))[1]
    off = ladder(cfg=_cfg(False))[1]
    assert on["n_bids"] == off["n_bids"] and on["n_asks"] == off["n_asks"]
    assert (on["bid_px"] == off["bid_px"]).all() and (on["ask_sz"] == off["ask_sz"]).all()


def test_move_out_when_beyond_the_max_half_spread_then_the_level_still_goes():
    capped = ladder(position_sz=LONG, cfg=_cfg(True, max_half_spread_bps=10.0))[1]
    assert capped["n_bids"] == 0
