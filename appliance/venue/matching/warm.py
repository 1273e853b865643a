"""Compile the matching kernels before the venue answers anyone.

numba compiles a kernel on its first call. In the venue that first call came from the
market task or a client's first order, inside the server's event loop, which then
answered nothing for the tens of seconds a cold compile takes on two cores: the
gateway's first ``meta`` timed out and it raised the kill flag. ``warm_engine`` runs
every entry point once on a scratch engine of the same coins (book, trade and
context events; an ALO place, a modify, a cancel, an IOC that takes, leverage,
cancel-all, the views) so the server opens its port only when a request costs what
it will cost later. With a warm cache this loads machine code: a few hundred ms.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from shm_layout.constants import EV_ASSET_CTX, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT

from .engine import VenueEngine
from .views import CoinSpec

log = logging.getLogger(__name__)

_SCRATCH_ADDR = "0x" + "ab" * 20
_T0_NS = 1_700_000_000_000_000_000


def _events(coin: int) -> np.ndarray:
    ev = np.zeros(3, MD_EVENT)
    for i, kind in enumerate((EV_BOOK, EV_TRADE, EV_ASSET_CTX)):
        e = ev[i]
        e["seq"] = i + 1
        e["kind"] = kind
        e["coin"] = coin
        e["exch_ts_ns"] = e["recv_ts_ns"] = _T0_NS + i * 1_000_000
    b = ev[0]
    b["n_bids"] = b["n_asks"] = 1
    b["lv"]["bid_px"][0], b["lv"]["ask_px"][0] = 100.0, 100.1
    b["lv"]["bid_sz"][0], b["lv"]["ask_sz"][0] = 5.0, 5.0
    b["lv"]["bid_n"][0] = b["lv"]["ask_n"][0] = 1
    ev[1]["side"], ev[1]["px"], ev[1]["sz"] = 1, 100.1, 0.5
    ev[2]["px"], ev[2]["sz"], ev[2]["aux0"], ev[2]["aux1"] = 100.05, 1000.0, 1e-5, 100.05
    return ev


def warm_engine(coins: list[CoinSpec], **engine_kw) -> float:
    """Run every engine entry point once on a scratch engine; returns the seconds it
    took. Never raises: a failure here only means the first real call compiles."""
    t0 = time.monotonic()
    try:
        spec = coins[0]
        eng = VenueEngine([spec], **engine_kw)
        eng.add_account(_SCRATCH_ADDR, 1e6)
        eng.on_market(_events(0))
        sz = round(1.0, spec.sz_decimals)
        r = eng.place(_SCRATCH_ADDR, spec.name, True, 99.0, sz, tif="Alo", cloid="0x" + "01" * 16)
        if r.oid:
            eng.modify(_SCRATCH_ADDR, r.oid, spec.name, True, 98.0, sz, tif="Alo")
        eng.place(_SCRATCH_ADDR, spec.name, False, 99.0, sz, tif="Ioc")
        eng.update_leverage(_SCRATCH_ADDR, spec.name, 1, True)
        for o in eng.open_orders(_SCRATCH_ADDR):
            eng.cancel(_SCRATCH_ADDR, o.coin, o.oid)
        eng.place(_SCRATCH_ADDR, spec.name, True, 99.5, sz, tif="Gtc")
        eng.cancel_all(_SCRATCH_ADDR)
        eng.account(_SCRATCH_ADDR)
        eng.fills(_SCRATCH_ADDR)
        eng.book(spec.name)
        eng.drain_updates()
    except Exception:  # noqa: BLE001 (warming is an optimisation, never a failure)
        log.exception("warming the matching kernels failed; the first calls will compile")
    return time.monotonic() - t0
