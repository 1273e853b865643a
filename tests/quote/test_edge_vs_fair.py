"""Issue 16: a level is quoted only when its own edge against the fair price, depth -
AS(d) - maker fee, is positive; drift and inventory move the ladder, they never
license a level with no edge of its own. Legacy and no_as keep the old rule."""

import numpy as np
from quote_helpers import BASE, MAX_POS, cfg_vector, params
from quote_helpers import ladder as _ladder

from appliance.quote.presets import preset_config

FEE_BPS = 1.5  # quote.maker_fee_bps default
FAIR = BASE["microprice_px"]


def ladder(p=None, position_sz=0.0, cfg=None):
    """One kernel call, the rule on unless ``cfg`` says otherwise."""
    return _ladder(p, position_sz=position_sz, cfg=cfg_vector(edge_vs_fair=True) if cfg is None else cfg)


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


def test_edge_rule_presets_when_read_then_opt_in_and_yardsticks_always_off():
    from appliance.config import load_config

    assert not preset_config("unified").quote.edge_vs_fair  # off by default (BENCHMARKS, issue 16)
    on = load_config(overrides={"quote": {"edge_vs_fair": True}})
    assert preset_config("unified", on).quote.edge_vs_fair
    assert not preset_config("legacy", on).quote.edge_vs_fair
    assert not preset_config("no_as", on).quote.edge_vs_fair
    assert not preset_config("legacy").quote.edge_vs_fair
    assert not preset_config("no_as").quote.edge_vs_fair


def test_break_even_depth_when_as_grows_with_depth_then_converges_to_a_positive_edge():
    from appliance.quote import epnl

    # USD-M BTC's calibrated AS: 0.62 bps, no decay, +0.34/bps up to 8.2 bps (slope ~0.7 at break-even)
    args = (0.62, 1000.0, 0.0, 1.0, 0.342, 8.18)
    d = epnl.break_even_depth_bps(*args, FEE_BPS)
    assert epnl.own_edge_bps(d, epnl.as_bps(0.62, 1000.0, d, 1.0, 0.342, 8.18), FEE_BPS) > 0
    assert d < 5.0  # the near window (about 3.7-5.3 bps), not beyond the cap
