import math

import numpy as np
import pytest

from appliance.config import load_config
from appliance.quote import kernel
from shm_layout import records
from shm_layout.constants import PULL_KILL, PULL_NO_PARAMS, PULL_NONE, PULL_NOT_FINITE

NOW = 10_000_000_000


def _params(**kw):
    p = np.zeros(1, records.MARKET_PARAMS)
    base = dict(valid=1, mid_px=100_000.5, microprice_px=100_000.5, best_bid_px=100_000.0,
                best_ask_px=100_001.0, sigma_clean_bps_per_sqrt_s=2.0, kappa_per_bps=0.5,
                tick_size_px=1.0, update_mono_ns=NOW)
    base.update(kw)
    for k, v in base.items():
        p[k] = v
    return p


def _ladder(p, position_sz=0.0, kill=0, cfg=None):
    c = load_config()
    cfg = kernel.config_vector(c.quote, c.risk) if cfg is None else cfg
    out = np.zeros(1, records.TARGET_LADDER)
    reason = kernel.compute_ladder(p[0], position_sz, cfg, kill, NOW, out[0])
    return reason, out[0]


def test_ladder_when_flat_then_symmetric_glft_levels_outside_the_touch():
    reason, lad = _ladder(_params())
    assert reason == PULL_NONE and lad["n_bids"] == 5 and lad["n_asks"] == 5
    gamma, kappa, fee = 0.3, 0.5, 1.5
    expected = max(math.log(1 + gamma / kappa) / gamma + fee, 4.0)
    assert lad["half_spread_bps"] == pytest.approx(expected)
    bids, asks = lad["bid_px"][:5], lad["ask_px"][:5]
    assert np.all(np.diff(bids) < 0) and np.all(np.diff(asks) > 0)
    assert bids[0] < 100_000.0 and asks[0] > 100_001.0
    assert np.all(bids == np.floor(bids)) and np.all(asks == np.ceil(asks))  # on the tick
    depth_bps = (100_000.5 - bids[0]) / 100_000.5 * 1e4
    assert expected <= depth_bps < expected + 1.0  # GLFT depth, rounded down to the tick


def test_ladder_when_long_then_reservation_below_mid_and_bids_thinner():
    _, flat = _ladder(_params())
    _, long = _ladder(_params(), position_sz=0.048)
    assert long["reservation_px"] < flat["reservation_px"]
    assert long["bid_px"][0] < flat["bid_px"][0]
    assert long["n_bids"] < 5 and long["n_asks"] == 5  # buying more would breach 0.05


def test_ladder_when_at_max_position_then_accumulating_side_cleared():
    _, lad = _ladder(_params(), position_sz=0.05)
    assert lad["n_bids"] == 0 and lad["n_asks"] == 5


@pytest.mark.parametrize("field", ["kappa_per_bps", "sigma_clean_bps_per_sqrt_s",
                                   "microprice_px", "best_ask_px", "tick_size_px"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_ladder_when_input_not_finite_then_pulled_never_a_bad_quote(field, bad):
    reason, lad = _ladder(_params(**{field: bad}))
    assert reason == PULL_NOT_FINITE and lad["n_bids"] == 0 and lad["n_asks"] == 0
    assert np.all(np.isfinite(lad["bid_px"])) and np.all(lad["bid_px"] == 0)


def test_ladder_when_position_nan_then_pulled():
    reason, _ = _ladder(_params(), position_sz=math.nan)
    assert reason == PULL_NOT_FINITE


def test_ladder_when_params_invalid_or_stale_then_pulled():
    assert _ladder(_params(valid=0))[0] == PULL_NO_PARAMS
    assert _ladder(_params(update_mono_ns=NOW - 6_000_000_000))[0] == PULL_NO_PARAMS


def test_ladder_when_kill_then_pulled():
    reason, lad = _ladder(_params(), kill=1)
    assert reason == PULL_KILL and lad["n_bids"] == 0


def test_ladder_when_book_tight_then_never_crosses_the_touch():
    # A wide reservation shift must still leave the bid below the best ask.
    _, lad = _ladder(_params(microprice_px=100_100.0))
    assert lad["bid_px"][0] <= 100_000.0 and lad["ask_px"][0] >= 100_001.0
