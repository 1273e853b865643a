"""Presets: unified (default), legacy (the old protections, a yardstick), no_as."""

import numpy as np
import pytest
from quote_helpers import BASE, MAX_POS, cfg_vector, ladder, params

from appliance.backtest.presets import PresetError
from appliance.backtest.presets import apply_preset as backtest_preset
from appliance.config import load_config
from appliance.quote.legacy import GATE_ONLY_ASKS
from appliance.quote.presets import PRESETS, UnknownPresetError, preset_config


def test_preset_when_unknown_then_clear_error_naming_the_known_ones():
    with pytest.raises(UnknownPresetError, match="unified, legacy, no_as"):
        preset_config("aggressive")
    with pytest.raises(PresetError):
        backtest_preset("aggressive", load_config())


def test_preset_when_each_known_then_config_and_backtest_agree():
    for name in PRESETS:
        assert backtest_preset(name, load_config()) == preset_config(name)
    assert preset_config("unified") == load_config()
    legacy = preset_config("legacy").quote
    assert legacy.drift_clamp_bps == 3.0 and legacy.legacy_zones and legacy.legacy_gate
    assert legacy.inventory_beta == 3.0 and not legacy.use_epnl_filter
    assert not preset_config("no_as").quote.use_adverse_selection


def test_legacy_when_drift_strong_then_clamped_at_3_bps_and_unified_not():
    p = params(drift_bps_per_s=-10.0)
    assert ladder(p, cfg=cfg_vector("legacy"))[1]["drift_shift_bps"] == pytest.approx(-3.0)
    assert ladder(p)[1]["drift_shift_bps"] == pytest.approx(-25.0)
    # the opt-in cap (issue 16) is sigma-scaled: sigma sqrt(T) / 2 (sigma 2 bps/sqrt(s), T 5 s)
    capped = cfg_vector(drift_cap_sigmas=1.0)
    assert ladder(p, cfg=capped)[1]["drift_shift_bps"] == pytest.approx(-2.0 * 5.0 ** 0.5 / 2)


def test_legacy_when_55pct_long_then_gate_acts_while_unified_only_logs_it():
    p = params(sigma_clean_bps_per_sqrt_s=0.7)
    old = ladder(p, position_sz=0.55 * MAX_POS, cfg=cfg_vector("legacy"))[1]
    # the gate against the E[PnL] terms alone (the soft limit at 50 % would clear the bids)
    new = ladder(p, position_sz=0.55 * MAX_POS, cfg=cfg_vector(inventory_soft_limit_frac=1.0))[1]
    assert old["legacy_gate"] == GATE_ONLY_ASKS and old["n_bids"] == 0 and old["n_asks"] > 0
    assert new["legacy_gate"] == GATE_ONLY_ASKS and new["n_bids"] > 0
    assert new["legacy_gate_disagree"] == 1


def test_legacy_when_zones_then_yellow_and_red_widen_in_steps():
    p = params(sigma_clean_bps_per_sqrt_s=0.7)
    cfg = cfg_vector("legacy")
    h = [ladder(p, position_sz=u * MAX_POS, cfg=cfg)[1]["ask_half_spread_bps"] for u in (0.5, 0.7, 0.9)]
    zones = [ladder(p, position_sz=u * MAX_POS, cfg=cfg)[1]["inventory_zone"] for u in (0.5, 0.7, 0.9)]
    assert zones == [0, 1, 2]
    assert h[1] > 1.3 * h[0] and h[2] > h[1] + 8.0


def test_legacy_when_toxic_then_size_cut_3_to_17_pct_and_even_split():
    lad = ladder(params(toxicity_bid=1.0, toxicity_ask=1.0), cfg=cfg_vector("legacy"))[1]
    sizes = lad["ask_sz"][:lad["n_asks"]]
    side_sz = load_config().quote.level_size_usd * 5 / BASE["mid_px"]  # a side's budget in coin
    assert sizes.sum() == pytest.approx(side_sz * 0.83, abs=6e-5)  # each level floored to the lot
    assert np.ptp(sizes) <= 1e-5  # even split (to the lot)
