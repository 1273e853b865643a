"""Pre-trade features of a market fill's adverse selection, as the estimator computes
them (``appliance/estimator/as_features.py`` is the numba kernel; a test holds the two
to the same numbers on one event stream).

State, updated on every event in time order (t in s, decays exp(-dt / tau)):
  flow      S = sum of side x size, A = sum of size over trades, tau = FLOW_TAU_S;
            flow_imb = S / A in [-1, 1] (the recent trade-flow imbalance, OFI)
  touch     book_imb = (bid_sz - ask_sz) / (bid_sz + ask_sz) at the touch
  momentum  mom_bps = (mid - EWMA(mid)) / mid x 1e4, the EWMA (tau MOM_TAU_S) updated at
            every book event toward the mid before it (the estimator's recursion)
  spread    spread_bps = (ask - bid) / mid x 1e4
A fill's features are the state strictly before its trade's timestamp (what a quote
standing then could have been priced with), each times the aggressor's side, so that
a positive value says "the book and the flow lean the aggressor's way":
  flow_adv = aggr x flow_imb, imb_adv = aggr x book_imb, mom_adv = aggr x mom_bps.
Fill-time extras for the offline study only (they use the trade itself):
  size_rel = size / EWMA(size) before it, size_touch = size / the hit side's touch size.
"""

from __future__ import annotations

import math

import numpy as np

from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE

from .data import MarketSlice, _event_times_s

FLOW_TAU_S = 2.0
MOM_TAU_S = 1.0
SIZE_TAU_S = 30.0
MOM_CLIP_BPS = 1.0  # the estimator's momentum_clip_bps default
FEATURES = ("depth_bps", "flow_adv", "imb_adv", "mom_adv", "mom_clip", "spread_bps")


def _state_series(ev: np.ndarray) -> dict[str, np.ndarray]:
    """Per event, the feature state just before the event's timestamp."""
    t = _event_times_s(ev)
    n = ev.shape[0]
    names = ("flow_imb", "book_imb", "mom_bps", "spread_bps", "size_ewma", "bid_sz", "ask_sz")
    out = {k: np.full(n, np.nan) for k in names}
    s = a = 0.0
    mid = ema = math.nan
    ema_t = 0.0
    bimb = spr = bsz = asz = math.nan
    size_w = size_s = 0.0
    last_t = -math.inf
    snap = (math.nan,) * len(names)
    kind, side, sz = ev["kind"], ev["side"], ev["sz"]
    top = ev["lv"][:, 0]  # level 0 of each event
    bpx, apx, bq, aq = top["bid_px"], top["ask_px"], top["bid_sz"], top["ask_sz"]
    nb, na = ev["n_bids"], ev["n_asks"]
    for i in range(n):
        ti = t[i]
        if ti > last_t:
            if last_t > -math.inf:
                dt = ti - last_t
                f = math.exp(-dt / FLOW_TAU_S)
                s *= f
                a *= f
                g = math.exp(-dt / SIZE_TAU_S)
                size_w *= g
                size_s *= g
            snap = (s / a if a > 0.0 else 0.0, bimb,
                    (mid - ema) / mid * 1e4 if math.isfinite(ema) else 0.0, spr,
                    size_s / size_w if size_w > 0.0 else math.nan, bsz, asz)
            last_t = ti
        for k, v in zip(names, snap, strict=True):
            out[k][i] = v
        k = kind[i]
        if k == EV_TRADE:
            s += side[i] * sz[i]
            a += sz[i]
            size_s += sz[i]
            size_w += 1.0
        elif (k == EV_BOOK or k == EV_BBO) and nb[i] > 0 and na[i] > 0 and apx[i] > bpx[i] > 0.0:
            new = 0.5 * (bpx[i] + apx[i])
            ema = new if not math.isfinite(ema) else mid + (ema - mid) * math.exp(
                -max(ti - ema_t, 0.0) / MOM_TAU_S)
            mid, ema_t = new, ti
            bsz, asz = bq[i], aq[i]
            bimb = (bsz - asz) / (bsz + asz) if bsz + asz > 0.0 else 0.0
            spr = (apx[i] - bpx[i]) / mid * 1e4
    return out


def market_features(sl: MarketSlice, ev: np.ndarray, horizon_s: float) -> dict[str, np.ndarray]:
    """Features and realized AS at ``horizon_s`` of the passive side of every trade at
    depth >= 0 (the same fills ``adverse.market_markouts`` keeps, in the same order)."""
    st = _state_series(ev)
    tr = ev["kind"] == EV_TRADE
    ok = np.isfinite(sl.trade_mid) & (sl.trade_mid > 0)
    aggr = sl.trade_side[ok].astype(np.float64)
    m0, px, t, sz = sl.trade_mid[ok], sl.trade_px[ok], sl.trade_t_s[ok], sl.trade_sz[ok]
    depth = -aggr * (m0 - px) / m0 * 1e4
    keep = depth >= 0.0
    per = {k: v[tr][ok][keep] for k, v in st.items()}
    aggr, m0, t, sz, depth = aggr[keep], m0[keep], t[keep], sz[keep], depth[keep]
    k = np.searchsorted(sl.mid_t_s, t + horizon_s, side="right") - 1
    as_h = np.full(t.shape[0], np.nan)
    done = (t + horizon_s <= sl.t1_s) & (k >= 0)
    as_h[done] = aggr[done] * (sl.mid_px[np.maximum(k, 0)][done] - m0[done]) / m0[done] * 1e4
    touch = np.where(aggr > 0, per["ask_sz"], per["bid_sz"])
    return {"t_s": t, "aggr": aggr, "as_bps": as_h, "depth_bps": depth,
            "flow_adv": aggr * per["flow_imb"], "imb_adv": aggr * np.nan_to_num(per["book_imb"]),
            "mom_adv": aggr * per["mom_bps"],
            "mom_clip": np.clip(aggr * per["mom_bps"], -MOM_CLIP_BPS, MOM_CLIP_BPS),
            "spread_bps": per["spread_bps"], "size_rel": sz / per["size_ewma"], "size_touch": sz / touch}
