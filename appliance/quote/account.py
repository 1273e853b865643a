"""The quote kernel's ``acct`` vector (margin.py) from a POSITION_STATE record.

The gateway publishes the venue account there (gateway/hyperliquid/account.py); the backtester
its simulated account. Account data never published (``account_update_mono_ns`` 0,
the paper executor) or older than ``max_age_ns`` counts as not known: the margin then
does not limit the size, only the position limit (``risk.max_position_usd``, or
``max_position_sz``) does. Why not keep stale
figures: the gateway refreshes them every few seconds, so old ones mean it cannot
reach the venue (its orders are not moving either); a stale small margin would starve
a side and a stale liquidation price clear one for no present reason, while the
position limit (and the risk process) still bound the exposure.
"""

import math

import numpy as np
from numba import njit

from .margin import A_AVAILABLE_MARGIN_USD, A_LEVERAGE, A_LIQ_PX, A_REQUEST_DEFICIT, N_ACCOUNT


def account_rows(n_coins: int) -> np.ndarray:
    """A preallocated (n_coins, N_ACCOUNT) array, every row "not known"."""
    a = np.zeros((n_coins, N_ACCOUNT))
    a[:, A_AVAILABLE_MARGIN_USD] = -1.0
    return a


@njit(cache=True)
def set_unknown(acct):
    acct[A_AVAILABLE_MARGIN_USD] = -1.0
    acct[A_LEVERAGE] = 0.0
    acct[A_LIQ_PX] = 0.0


@njit(cache=True)
def fill_from_position(acct, pos, now_mono_ns, max_age_ns):
    """Fill ``acct`` from ``pos`` (a POSITION_STATE record); always finite. Returns True
    when the account was known (fresh enough). The request deficit (requests sent less
    USDC traded: the address budget's own rule, one request per USDC) is the gateway's own
    count, always known."""
    deficit = float(pos.requests_sent) - pos.volume_usd
    acct[A_REQUEST_DEFICIT] = deficit if math.isfinite(deficit) else 0.0
    upd = pos.account_update_mono_ns
    if upd <= 0 or now_mono_ns - upd > max_age_ns:
        set_unknown(acct)
        return False
    avail = pos.available_margin_usd
    acct[A_AVAILABLE_MARGIN_USD] = avail if math.isfinite(avail) and avail >= 0.0 else -1.0
    lev = pos.leverage
    acct[A_LEVERAGE] = lev if math.isfinite(lev) and lev > 0.0 else 0.0
    liq = pos.liquidation_px
    acct[A_LIQ_PX] = liq if math.isfinite(liq) and liq > 0.0 else 0.0
    return True
