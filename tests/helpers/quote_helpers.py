"""Shared builders for the quote kernel tests: a MarketParams record of a calm
BTC-like market and one kernel call."""

import numpy as np

from appliance.config import load_config
from appliance.quote import kernel
from appliance.quote.config import config_vector
from appliance.quote.margin import A_REQUEST_DEFICIT
from appliance.quote.presets import preset_config
from shm_layout import records

NOW = 10_000_000_000
MID_PX = 100_000.5
MAX_POS = load_config().risk.max_position_usd / MID_PX  # the default limit in coin at BASE's mid

BASE = dict(valid=1, mid_px=100_000.5, microprice_px=100_000.5, best_bid_px=100_000.0,
            best_ask_px=100_001.0, spread_bps=0.1, sigma_clean_bps_per_sqrt_s=2.0,
            kappa_per_bps=0.2, kappa_bid_per_bps=0.2, kappa_ask_per_bps=0.2, kappa_mult_bid=1.0,
            kappa_mult_ask=1.0, tick_size_px=1.0, update_mono_ns=NOW, gamma_multiplier=1.0,
            spread_multiplier=1.0, tail_risk_multiplier=1.0, as0_bps=1.0, as_delta_char_bps=5.0,
            toxicity_bid=0.3, toxicity_ask=0.3, as_ratio_adjustment=1.0, drift_bps_per_s=0.0,
            drift_uncertainty_bps_per_s=1.4, drift_skill=1.0, drift_theta_per_s=0.0,
            funding_rate_per_h=0.0, funding_cost_bps=0.0)


def params(**kw) -> np.ndarray:
    p = np.zeros(1, records.MARKET_PARAMS)
    base = dict(BASE)
    base.update(kw)
    for k, v in base.items():
        p[k] = v
    return p


def cfg_vector(preset: str = "unified", risk: dict | None = None, **quote_overrides) -> np.ndarray:
    over = {"quote": quote_overrides} if quote_overrides else {}
    if risk:
        over["risk"] = risk
    c = preset_config(preset, load_config(overrides=over or None))
    return config_vector(c.quote, c.risk)


def in_surplus() -> np.ndarray:
    """An account not known, its request budget far in surplus (volume far ahead of the
    requests sent): the volume credit off, as the tests of every other term want it."""
    a = kernel.account_unknown()
    a[A_REQUEST_DEFICIT] = -1e9
    return a


def ladder(p=None, position_sz=0.0, cfg=None, kill=0, reducing_only=0, acct=None):
    """(reason, ladder record) of one kernel call (``acct`` by default ``in_surplus``)."""
    p = params() if p is None else p
    cfg = cfg_vector() if cfg is None else cfg
    acct = in_surplus() if acct is None else acct
    out = np.zeros(1, records.TARGET_LADDER)
    reason = kernel.compute_ladder(p[0], position_sz, acct, cfg, kill, reducing_only, NOW, out[0])
    return reason, out[0]


def bid_depth_bps(lad, level=0) -> float:
    """Distance of a bid level below the fair price, bps."""
    return (BASE["microprice_px"] - lad["bid_px"][level]) / BASE["microprice_px"] * 1e4


def ask_depth_bps(lad, level=0) -> float:
    return (lad["ask_px"][level] - BASE["microprice_px"]) / BASE["microprice_px"] * 1e4
