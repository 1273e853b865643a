"""Issue 16: a level is quoted only when its own edge against the fair price, depth -
AS(d) - maker fee, is positive; drift and inventory move the ladder, they never
license a level with no edge of its own. Legacy and no_as keep the old rule."""

import numpy as np
from quote_helpers import BASE, MAX_POS, cfg_vector, ladder, params

from appliance.quote.presets import preset_config

FEE_BPS = 1.5  # quote.maker_fee_bps default
FAIR = BASE["microprice_px"]


def _own_edges(lad, side: int) -> np.ndarray:
    """depth - AS - fee of every quoted level of ``side`` (+1 bids, -1 asks), bps."""
    key, n = ("bid", lad["n_bids"]) if side > 0 else ("ask", lad["n_asks"])
    px = lad[f"{key}_px"][:n]
    depth = side * (FAIR - px) / FAIR * 1e4
    return depth - lad[f"{key}_as_bps"][:n] - FEE_BPS


def test_edge_rule_when_strong_up_drift_pulls_bids_to_the_touch_then_no_bid_without_own_edge():
    up = params(drift_bps_per_s=4.0)  # shift mu T / 2 = 10 bps: the bid is pushed onto the touch
    old = ladder(up, cfg=cfg_vector(edge_vs_fair=False))[1]
    assert old["n_bids"] > 0 and (_own_edges(old, 1) <= 0).any()  # the old rule quoted them
    new = ladder(up)[1]
    assert (_own_edges(new, 1) > 0).all()
    assert new["bid_px"][0] < old["bid_px"][0]  # moved out to where it has edge


def test_edge_rule_when_deep_short_inventory_pulls_bids_in_then_no_bid_without_own_edge():
    pos = -0.95 * MAX_POS  # the reducing side (bids) gets a bonus and a skew toward the fair price
    p = params(sigma_clean_bps_per_sqrt_s=4.0)
    old = ladder(p, position_sz=pos, cfg=cfg_vector(edge_vs_fair=False))[1]
    assert old["n_bids"] > 0 and (_own_edges(old, 1) <= 0).any()
    new = ladder(p, position_sz=pos)[1]
    assert (_own_edges(new, 1) > 0).all()


def test_edge_rule_when_deep_long_then_asks_stay_quoted_at_their_break_even_depth_or_beyond():
    lad = ladder(position_sz=0.8 * MAX_POS)[1]  # the skew drags the asks below the fair price
    assert lad["n_asks"] > 0 and (_own_edges(lad, -1) > 0).all()
    assert (lad["ask_epnl_bps"][:lad["n_asks"]] > 0).all()


def test_edge_rule_when_levels_have_own_edge_then_they_are_still_quoted():
    flat_old = ladder(cfg=cfg_vector(edge_vs_fair=False))[1]
    flat = ladder()[1]
    assert flat["n_bids"] == flat_old["n_bids"] > 0 and flat["n_asks"] == flat_old["n_asks"] > 0
    assert (_own_edges(flat, 1) > 0).all() and (_own_edges(flat, -1) > 0).all()
    # with the up-drift the asks move away from the fair price: they keep their edge and stay
    up = ladder(params(drift_bps_per_s=4.0))[1]
    assert up["n_asks"] > 0 and (_own_edges(up, -1) > 0).all()


def test_edge_rule_presets_when_read_then_unified_on_and_yardsticks_unchanged():
    assert preset_config("unified").quote.edge_vs_fair
    assert not preset_config("legacy").quote.edge_vs_fair
    assert not preset_config("no_as").quote.edge_vs_fair
