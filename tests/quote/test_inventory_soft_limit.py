"""Issue 16: the accumulating side is sized to the headroom left to the soft limit
(``quote.inventory_soft_limit_frac`` of the position limit), zero at it; the reducing
side keeps its budget; legacy sizes up to the limit itself."""

import numpy as np
import pytest
from quote_helpers import MAX_POS, cfg_vector, ladder, params

from appliance.config import ConfigError, load_config


def _side_sz(lad, side: str) -> float:
    return float(np.sum(lad[f"{side}_sz"][:lad[f"n_{side}s"]]))


def test_soft_limit_when_long_then_bids_shrink_to_the_headroom_and_vanish_at_it():
    cfg = cfg_vector(inventory_soft_limit_frac=0.5)
    flat = ladder(cfg=cfg)[1]
    near = ladder(position_sz=0.45 * MAX_POS, cfg=cfg)[1]
    at = ladder(position_sz=0.5 * MAX_POS, cfg=cfg)[1]
    assert _side_sz(near, "bid") <= 0.05 * MAX_POS + 1e-9 < _side_sz(flat, "bid")
    assert at["n_bids"] == 0 and at["n_asks"] > 0  # the reducing side stays


def test_soft_limit_when_short_then_asks_shrink_the_same_way():
    cfg = cfg_vector(inventory_soft_limit_frac=0.5)
    near = ladder(position_sz=-0.45 * MAX_POS, cfg=cfg)[1]
    beyond = ladder(position_sz=-0.55 * MAX_POS, cfg=cfg)[1]
    assert 0 < _side_sz(near, "ask") <= 0.05 * MAX_POS + 1e-9
    assert beyond["n_asks"] == 0 and beyond["n_bids"] > 0


def test_soft_limit_when_1_or_legacy_then_sized_up_to_the_limit_as_before():
    at = 0.45 * MAX_POS  # 5 % of the limit left to a soft limit at 50 %
    calm = params(sigma_clean_bps_per_sqrt_s=0.7)  # the E[PnL] inventory term keeps bids there
    full = _side_sz(ladder(cfg=cfg_vector(inventory_soft_limit_frac=1.0))[1], "bid")
    unified = _side_sz(ladder(calm, position_sz=at, cfg=cfg_vector(inventory_soft_limit_frac=1.0))[1], "bid")
    legacy = _side_sz(ladder(position_sz=at, cfg=cfg_vector("legacy"))[1], "bid")
    assert unified > 0.05 * MAX_POS and legacy > 0.05 * MAX_POS and legacy <= full


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_soft_limit_when_out_of_range_then_refused(bad):
    with pytest.raises(ConfigError, match="inventory_soft_limit_frac"):
        load_config(overrides={"quote": {"inventory_soft_limit_frac": bad}})
