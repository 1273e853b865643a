"""Issue 16: with ``quote.epnl_move_out`` a level whose E[PnL] is not positive where
GLFT put it moves out to the depth where it is, instead of leaving the ladder, so a
side stays quoted (deeper) while a depth-independent term (inventory, drift, carry) or
a raised AS makes its GLFT levels lose; off, the level is dropped as before."""

import numpy as np
import pytest
from quote_helpers import MAX_POS, bid_depth_bps, cfg_vector, ladder, params

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


# ``quote.move_out_ladder``: the calibrated AS shape of usdm_btc (BENCHMARKS), which
# grows with depth up to its cap, puts the break-even depth (~12 bps at a 1.5 bps fee)
# beyond every GLFT level but the deepest
AS = dict(as0_bps=0.62, as_delta_char_bps=1000.0, as_depth_coef_per_bps=0.34, as_depth_cap_bps=8.2)


def _bid_depths(lad) -> np.ndarray:
    return np.array([bid_depth_bps(lad, i) for i in range(lad["n_bids"])])


def test_ladder_move_out_when_glft_levels_lose_then_the_ladder_keeps_its_spacing():
    stacked = _bid_depths(ladder(params(**AS), cfg=_cfg(True))[1])
    assert len(stacked) >= 2 and np.diff(stacked).min() < 1.0  # a tick behind at the break-even
    moved = ladder(params(**AS), cfg=_cfg(True, move_out_ladder=True))[1]
    depths = _bid_depths(moved)
    assert len(depths) >= 4 and (moved["bid_epnl_bps"][:len(depths)] > 0).all()
    # the configured ladder's geometric gaps (2 bps, x1.5), to the venue's tick; level 0,
    # at the break-even itself, has no per-fill edge to be sized by and may go
    gaps = np.diff(depths)
    assert gaps == pytest.approx([2.0, 3.0, 4.5, 6.75][-len(gaps):], abs=0.2)


def test_ladder_move_out_when_the_as_estimate_moves_then_sizes_do_not():
    """Beyond the AS cap a level's per-fill edge is its depth past the break-even, so
    moving the ladder as one leaves each level's edge, and so its size, where it was."""
    def sizes(as0: float, as_ladder: bool) -> np.ndarray:
        lad = ladder(params(**{**AS, "as0_bps": as0}), cfg=_cfg(True, move_out_ladder=as_ladder))[1]
        return lad["bid_sz"][:lad["n_bids"]].copy()
    assert sizes(0.62, True) == pytest.approx(sizes(0.70, True), abs=1.1e-5)  # a lot
    a, b = sizes(0.62, False), sizes(0.70, False)
    assert len(a) != len(b) or not np.allclose(a, b, rtol=0.02)  # per level, they move


def test_ladder_move_out_when_levels_already_pay_then_the_ladder_is_unchanged():
    on = ladder(cfg=_cfg(True, move_out_ladder=True))[1]
    off = ladder(cfg=_cfg(True))[1]
    assert (on["bid_px"] == off["bid_px"]).all() and (on["ask_sz"] == off["ask_sz"]).all()


def test_ladder_move_out_when_the_break_even_is_beyond_the_max_half_spread_then_per_level():
    cfg = dict(max_half_spread_bps=10.0)
    capped = ladder(params(**AS), cfg=_cfg(True, move_out_ladder=True, **cfg))[1]
    per_level = ladder(params(**AS), cfg=_cfg(True, **cfg))[1]
    assert (capped["bid_px"] == per_level["bid_px"]).all() and (capped["bid_sz"] == per_level["bid_sz"]).all()


def test_ladder_move_out_when_the_as_falls_with_depth_then_levels_move_one_by_one():
    """The depth-decay prior (AS halves every ~3.5 bps): the deeper levels pay where GLFT
    put them, so only the levels that lose move out, as without the ladder rule."""
    decaying = dict(as0_bps=30.0, as_delta_char_bps=5.0)
    on = ladder(params(**decaying), cfg=_cfg(True, move_out_ladder=True))[1]
    per_level = ladder(params(**decaying), cfg=_cfg(True))[1]
    assert per_level["n_bids"] > 0
    assert ladder(params(**decaying), cfg=_cfg(False))[1]["epnl_dropped_bids"] > 0  # some lose
    assert (on["bid_px"] == per_level["bid_px"]).all() and (on["bid_sz"] == per_level["bid_sz"]).all()
