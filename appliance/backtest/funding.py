"""The venue's funding payments into the backtest's PositionState mirror.

The simulated venue pays funding on the hour to the account (``matching`` emits an
``UPD_FUNDING`` update); the live gateway books the same payment into the position
(``Positions.add_funding``), so the backtest does too (``paper.add_funding``): its
``total_pnl_usd``, and the report's ``pnl``, include funding as live P&L does.
"""

from numba import njit

from appliance.gateway import paper
from shm_layout.venue_records import UPD_FUNDING


@njit(cache=True, inline="always")
def book_fundings(vst, updates, pos, account, coin):
    """Book every funding payment of ``account`` on ``coin`` among the venue's pending
    updates (call right after the event that may have paid it, before they are dropped)."""
    for j in range(vst.n_updates):
        u = updates[j]
        if u.kind == UPD_FUNDING and u.account == account and u.coin == coin:
            paper.add_funding(pos, u.v0)
