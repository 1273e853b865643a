"""Queue position and fill probability (seed 000 gap 2, seed 001 section 4.3).

Wiring (for the estimator kernel and the quote kernel):
  state: the record ``shm_layout/estimators/queue_position.py`` declares; ``init(st, cfg)``.
  per EV_TRADE: ``on_trade(st, cfg, t_ns, px, sz, side)`` (side = aggressor).
  per EV_BOOK: ``on_book(st, cfg, t_ns, bid_px, bid_sz, bid_n, ask_px, ask_sz, ask_n,
    n_bids, n_asks)`` (the MD_EVENT arrays; order counts learn the cancel rate).
  own orders (by ladder slot 0..N_ORDERS-1): ``place(st, cfg, slot, side, px,
    queue_ahead_sz, t_ns, sigma_bps_per_sqrt_s, mid_px)`` when it rests; ``on_own_fill(st,
    cfg, slot, t_ns)``; ``cancel(st, slot)``; orders unfilled past horizon_s are learnt as
    misses inside ``on_book``.
  outputs: ``fill_prob(st, cfg, side, depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s,
    horizon_s)`` per level (quote kernel; side +1 = our bid) and ``fill_rate_per_s`` (the
    same as an intensity); ``should_refresh(...)``; ``exec_scale(st)``;
    ``cancel_rate_per_s(st)``; ``volume_rate_sz_per_s(st, side)``; ``queue_ahead_sz(st, slot)``;
    ``brier_ewma(st)``; ``n_outcomes(st)``.

Model (all over a horizon T in seconds; depth delta in bps; sigma in bps/sqrt(s)):
  P(fill)          = P(touch) * P(execute | touch)
  P(touch)         = 2 Phi(-delta / (sigma sqrt T)) = erfc(delta / (sigma sqrt(2T))), 1 at delta <= 0
  P(exec | touch)  = exp(-k * Q_eff / V)
    Q_eff = Q exp(-c T / 2): queue ahead after cancels at the per-order rate c (1/s), which
            is learnt from the book's order counts: departures / orders / dt at unchanged
            price levels (counts that fall between snapshots)
    V     = v_side * T: aggressor volume against that side (sells hit bids), EWMA in size/s
    k     = the decay scale, learnt from our outcomes by stochastic gradient on ln k of
            the Bernoulli log-likelihood (filled within T or not; cancels are censored)
Queue ahead of a resting order falls with trades at its price (FIFO) and with cancels
(a drop of dn orders out of n at the level removes dn/n of the queue ahead).
should_refresh: move when the target is more than refresh_max_stale_bps away, or when
the new place's P(fill) beats the kept one by refresh_min_gain; else keep the queue place.
"""

import math

from numba import njit

from shm_layout.estimators import EstimatorConfig
from shm_layout.estimators import queue_position as declared

from .emath import status

LN2 = math.log(2.0)
N_ORDERS = declared.N_ORDERS  # ladder slots tracked (2 sides x MAX_LEVELS)
K_LEVELS = declared.K_LEVELS  # book levels a side whose order counts learn the cancel rate

# --- config vector -----------------------------------------------------------------
C_ENABLED = 0
C_HORIZON_S = 1
C_K_PRIOR = 2
C_K_MIN = 3
C_K_MAX = 4
C_LR = 5
C_VOL_HL_S = 6
C_CANCEL_HL_S = 7
C_MIN_GAIN = 8
C_MAX_STALE = 9
N_CONFIG_QUEUE = 10


def config_values(est: EstimatorConfig) -> list[float]:
    c = est.queue
    return [
        1.0 if c.enabled else 0.0,
        c.horizon_s,
        c.exec_scale_prior,
        c.exec_scale_min,
        c.exec_scale_max,
        c.learning_rate,
        c.volume_halflife_s,
        c.cancel_halflife_s,
        c.refresh_min_gain,
        c.refresh_max_stale_bps,
    ]


@njit(cache=True)
def init(st, cfg):
    st.vol_buy_sz_per_s = st.vol_sell_sz_per_s = st.cancel_per_s = st.brier = 0.0
    st.vol_ts_ns = st.n_cancel_obs = st.book_ts_ns = st.n_outcomes = 0
    st.prev_px[:, :] = 0.0
    st.prev_n[:, :] = 0.0
    for o in range(N_ORDERS):
        od = st.orders[o]
        od.active = od.side = od.placed_ts_ns = od.open = 0
        od.px = od.queue_ahead_sz = od.qn = od.p_touch = 0.0
    st.log_k = math.log(cfg[C_K_PRIOR])


# --- the model (pure) -----------------------------------------------------------------


@njit(cache=True)
def p_touch(depth_bps, sigma_bps_per_sqrt_s, horizon_s):
    if depth_bps <= 0.0:
        return 1.0
    s = sigma_bps_per_sqrt_s * math.sqrt(2.0 * horizon_s)
    if s <= 0.0:
        return 0.0
    return math.erfc(depth_bps / s)


@njit(cache=True)
def fill_prob_model(depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s, horizon_s, vol_rate_sz_per_s,
                    cancel_rate_per_s, k):
    q_eff = max(queue_ahead_sz, 0.0) * math.exp(-cancel_rate_per_s * 0.5 * horizon_s)
    v = vol_rate_sz_per_s * horizon_s
    if q_eff <= 0.0:
        p_exec = 1.0
    elif v <= 0.0:
        p_exec = 0.0
    else:
        p_exec = math.exp(-k * q_eff / v)
    return p_touch(depth_bps, sigma_bps_per_sqrt_s, horizon_s) * p_exec


@njit(cache=True)
def volume_rate_sz_per_s(st, side):
    """Aggressor volume that can fill our order on ``side`` (+1 bid: sellers)."""
    return st.vol_sell_sz_per_s if side > 0 else st.vol_buy_sz_per_s


@njit(cache=True)
def fill_prob(st, cfg, side, depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s, horizon_s):
    """P(fill within horizon_s) for an order on ``side`` at depth_bps behind queue_ahead_sz."""
    return fill_prob_model(depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s, horizon_s,
                           volume_rate_sz_per_s(st, side), st.cancel_per_s, math.exp(st.log_k))


@njit(cache=True)
def fill_rate_per_s(st, cfg, side, depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s, horizon_s):
    """The same as a constant intensity: -ln(1 - P) / T."""
    p = fill_prob(st, cfg, side, depth_bps, queue_ahead_sz, sigma_bps_per_sqrt_s, horizon_s)
    return -math.log(max(1.0 - p, 1e-12)) / horizon_s


@njit(cache=True)
def should_refresh(st, cfg, side, cur_depth_bps, cur_queue_ahead_sz, target_depth_bps,
                   target_queue_ahead_sz, sigma_bps_per_sqrt_s):
    """1.0 = cancel/replace toward the target; 0.0 = keep the resting order's queue place."""
    if abs(target_depth_bps - cur_depth_bps) > cfg[C_MAX_STALE]:
        return 1.0
    t = cfg[C_HORIZON_S]
    keep = fill_prob(st, cfg, side, cur_depth_bps, cur_queue_ahead_sz, sigma_bps_per_sqrt_s, t)
    new = fill_prob(st, cfg, side, target_depth_bps, target_queue_ahead_sz, sigma_bps_per_sqrt_s, t)
    return 1.0 if new - keep > cfg[C_MIN_GAIN] else 0.0


# --- market data -------------------------------------------------------------------------


@njit(cache=True)
def on_trade(st, cfg, t_ns, px, sz, side):
    if st.vol_ts_ns > 0 and t_ns > st.vol_ts_ns:
        d = math.exp(-LN2 * (t_ns - st.vol_ts_ns) * 1e-9 / cfg[C_VOL_HL_S])
        st.vol_buy_sz_per_s *= d
        st.vol_sell_sz_per_s *= d
    if t_ns > st.vol_ts_ns:
        st.vol_ts_ns = t_ns
    # each trade adds its size times the EWMA's rate normalization: the sum is size/s
    if side > 0:
        st.vol_buy_sz_per_s += sz * LN2 / cfg[C_VOL_HL_S]
    else:
        st.vol_sell_sz_per_s += sz * LN2 / cfg[C_VOL_HL_S]
    for o in range(N_ORDERS):
        od = st.orders[o]
        if od.active == 0 or od.side != -side:  # a sell aggressor meets our bids
            continue
        ours = od.px
        if px == ours:
            od.queue_ahead_sz = max(od.queue_ahead_sz - sz, 0.0)
        elif (od.side > 0 and px < ours) or (od.side < 0 and px > ours):
            od.queue_ahead_sz = 0.0  # traded through our price: nothing is ahead any more


@njit(cache=True)
def _count_at(px_arr, n_arr, n, px):
    for i in range(n):
        if px_arr[i] == px:
            return n_arr[i]
    return -1.0


@njit(cache=True)
def on_book(st, cfg, t_ns, bid_px, bid_sz, bid_n, ask_px, ask_sz, ask_n, n_bids, n_asks):
    dt_s = (t_ns - st.book_ts_ns) * 1e-9 if st.book_ts_ns > 0 else 0.0
    # learn the per-order departure rate from counts at unchanged prices
    if dt_s > 0.0:
        gone = 0.0
        total = 0.0
        for s in range(2):
            for i in range(K_LEVELS):
                px = st.prev_px[s, i]
                n_prev = st.prev_n[s, i]
                if px <= 0.0 or n_prev <= 0.0:
                    continue
                if s == 0:
                    n_now = _count_at(bid_px, bid_n, n_bids, px)
                else:
                    n_now = _count_at(ask_px, ask_n, n_asks, px)
                if n_now < 0.0:
                    continue
                total += n_prev
                gone += max(n_prev - n_now, 0.0)
        if total > 0.0:
            sample = gone / total / dt_s
            a = max(1.0 / (st.n_cancel_obs + 1.0), 1.0 - math.exp(-LN2 * dt_s / cfg[C_CANCEL_HL_S]))
            st.cancel_per_s += a * (sample - st.cancel_per_s)
            st.n_cancel_obs += 1
    # our orders: cancels ahead shrink the queue proportionally, never above the level size
    for o in range(N_ORDERS):
        od = st.orders[o]
        if od.active == 0:
            continue
        side = od.side
        px = od.px
        s = 0 if side > 0 else 1
        n_prev = -1.0
        for i in range(K_LEVELS):
            if st.prev_px[s, i] == px:
                n_prev = st.prev_n[s, i]
        if side > 0:
            n_now = _count_at(bid_px, bid_n, n_bids, px)
            sz_now = _count_at(bid_px, bid_sz, n_bids, px)
        else:
            n_now = _count_at(ask_px, ask_n, n_asks, px)
            sz_now = _count_at(ask_px, ask_sz, n_asks, px)
        if n_prev > 0.0 and n_now >= 0.0 and n_now < n_prev:
            od.queue_ahead_sz *= n_now / n_prev
        if sz_now >= 0.0:
            od.queue_ahead_sz = min(od.queue_ahead_sz, sz_now)
        if od.open != 0 and (t_ns - od.placed_ts_ns) * 1e-9 >= cfg[C_HORIZON_S]:
            _learn(st, cfg, od.qn, od.p_touch, 0.0)
            od.open = 0
    for s in range(2):
        for i in range(K_LEVELS):
            if s == 0:
                ok = i < n_bids
                st.prev_px[s, i] = bid_px[i] if ok else 0.0
                st.prev_n[s, i] = bid_n[i] if ok else 0.0
            else:
                ok = i < n_asks
                st.prev_px[s, i] = ask_px[i] if ok else 0.0
                st.prev_n[s, i] = ask_n[i] if ok else 0.0
    st.book_ts_ns = t_ns


# --- own orders and learning ------------------------------------------------------------


@njit(cache=True)
def _learn(st, cfg, qn, pt, y):
    """One gradient step on ln k; qn = Q_eff / V at placement, pt = P(touch)."""
    k = math.exp(st.log_k)
    p = pt * math.exp(-k * qn)
    # d ln p / d ln k for a fill, d ln(1 - p) / d ln k for a miss
    grad = -k * qn if y > 0.5 else p * k * qn / max(1.0 - p, 1e-9)
    lk = st.log_k + cfg[C_LR] * grad
    st.log_k = min(max(lk, math.log(cfg[C_K_MIN])), math.log(cfg[C_K_MAX]))
    e = p - y
    st.brier = e * e if st.n_outcomes == 0 else st.brier + 0.02 * (e * e - st.brier)
    st.n_outcomes += 1


@njit(cache=True)
def learn_outcome(st, cfg, queue_ahead_sz, vol_rate_sz_per_s, p_touch_value, filled):
    """Learn from one prediction outcome given directly (also used by tests and replays)."""
    t = cfg[C_HORIZON_S]
    v = max(vol_rate_sz_per_s * t, 1e-12)
    qn = queue_ahead_sz * math.exp(-st.cancel_per_s * 0.5 * t) / v
    _learn(st, cfg, qn, p_touch_value, filled)


@njit(cache=True)
def place(st, cfg, slot, side, px, queue_ahead_sz, t_ns, sigma_bps_per_sqrt_s, mid_px):
    od = st.orders[slot]
    t = cfg[C_HORIZON_S]
    depth = side * (mid_px - px) / mid_px * 1e4 if mid_px > 0.0 else 0.0
    v = max(volume_rate_sz_per_s(st, side) * t, 1e-12)
    od.active = 1
    od.side = side
    od.px = px
    od.queue_ahead_sz = queue_ahead_sz
    od.placed_ts_ns = t_ns
    od.qn = queue_ahead_sz * math.exp(-st.cancel_per_s * 0.5 * t) / v
    od.p_touch = p_touch(depth, sigma_bps_per_sqrt_s, t)
    od.open = 1  # prediction still open


@njit(cache=True)
def on_own_fill(st, cfg, slot, t_ns):
    od = st.orders[slot]
    if od.active == 0:
        return
    if od.open != 0:
        filled_in_time = 1.0 if (t_ns - od.placed_ts_ns) * 1e-9 <= cfg[C_HORIZON_S] else 0.0
        _learn(st, cfg, od.qn, od.p_touch, filled_in_time)
    od.active = 0
    od.open = 0


@njit(cache=True)
def cancel(st, slot):
    """A cancel censors the prediction: nothing is learnt."""
    od = st.orders[slot]
    od.active = 0
    od.open = 0


# --- outputs ------------------------------------------------------------------------------


@njit(cache=True)
def exec_scale(st):
    return math.exp(st.log_k)


@njit(cache=True)
def cancel_rate_per_s(st):
    return st.cancel_per_s


@njit(cache=True)
def queue_ahead_sz(st, slot):
    return st.orders[slot].queue_ahead_sz


@njit(cache=True)
def brier_ewma(st):
    return st.brier


@njit(cache=True)
def n_outcomes(st):
    return float(st.n_outcomes)


# --- hooks: its part in the kernel's tiers, over the whole coin state (kernel_tiers) ---


@njit(cache=True, inline="always")
def hook_book(state, cfg, ev, t, full):
    """Queue depletion and cancel rates from each full book."""
    if full:
        lv = ev.lv
        on_book(state.queue, cfg.queue, t, lv.bid_px, lv.bid_sz, lv.bid_n, lv.ask_px, lv.ask_sz, lv.ask_n,
                ev.n_bids, ev.n_asks)


@njit(cache=True, inline="always")
def hook_trade(state, cfg, ev, t):
    on_trade(state.queue, cfg.queue, t, ev.px, ev.sz, ev.side)


@njit(cache=True)
def publish(st, cfg, h, tiers, t, stale, out):
    """The queue model's MarketParams fields."""
    out.queue_status = status(cfg[C_ENABLED] != 0.0, h.last_trade_ts_ns > 0,
                              float(h.last_book_ts_ns), t, stale)
    out.queue_exec_scale = exec_scale(st)
    out.queue_cancel_rate_per_s = cancel_rate_per_s(st)
    out.queue_volume_bid_sz_per_s = volume_rate_sz_per_s(st, 1)
    out.queue_volume_ask_sz_per_s = volume_rate_sz_per_s(st, -1)
