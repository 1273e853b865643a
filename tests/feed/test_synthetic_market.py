"""The scenario market: determinism, sane books, Hawkes clustering, scenario signatures."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from appliance.feed.sources.base import MarketSource
from appliance.feed.sources.synthetic import SCENARIOS, ScenarioSource
from shm_layout.constants import EV_ASSET_CTX, EV_BOOK, EV_TRADE, FLAG_SYNTHETIC
from shm_layout.records import MD_EVENT

_CACHE: dict[tuple, tuple[np.ndarray, object]] = {}


def _run(scenario: str, seed: int, coins=("BTC",), max_events: int = 4096, **kw):
    key = (scenario, seed, coins, max_events, tuple(sorted(kw.items())))
    if key not in _CACHE:
        src = ScenarioSource(coins, scenario, seed=seed, **kw)
        ev = concat_events(list(src.chunks(max_events)))
        _CACHE[key] = (ev, src.truth)
    return _CACHE[key]


def _in(ev: np.ndarray, truth, t0: float, t1: float) -> np.ndarray:
    ts = ev["exch_ts_ns"]
    return ev[(ts >= truth.ts_ns(t0)) & (ts < truth.ts_ns(t1))]


def _book_imbalance(books: np.ndarray, levels: int = 5) -> float:
    b = books["lv"]["bid_sz"][:, :levels].sum(1)
    a = books["lv"]["ask_sz"][:, :levels].sum(1)
    return float(((b - a) / (b + a)).mean())


def _sell_share(trades: np.ndarray) -> float:
    """Share of prints that are sells (counts: the Pareto size tail makes volume noisy)."""
    return float((trades["side"] < 0).mean())


def _depth(books: np.ndarray, side_sz: str, levels: int = 5) -> float:
    return float(books["lv"][side_sz][:, :levels].sum(1).mean())


def _mids(books: np.ndarray) -> np.ndarray:
    return (books["lv"]["bid_px"][:, 0] + books["lv"]["ask_px"][:, 0]) / 2


# --- determinism and the stream contract ------------------------------------------------


def test_scenario_when_same_seed_then_byte_identical_whatever_chunk_size():
    a, _ = _run("liquidation_cascade", 5, ("BTC", "ETH"), 4096, duration_s=1100)
    src = open_source("synthetic:liquidation_cascade", ["BTC", "ETH"], seed=5, duration_s=1100)
    b = concat_events(list(src.chunks(333)))
    assert a.dtype == MD_EVENT and a.tobytes() == b.tobytes()
    assert src.stats.events == len(a)


def test_scenario_when_seeds_differ_then_streams_differ():
    a, _ = _run("quiet", 1, duration_s=60)
    b, _ = _run("quiet", 2, duration_s=60)
    assert a.tobytes() != b.tobytes()


def test_scenario_when_played_then_finite_synthetic_and_time_ordered():
    ev, truth = _run("toxic_burst", 0, ("BTC", "ETH"), duration_s=300)
    src = ScenarioSource(["BTC"], "toxic_burst")
    assert isinstance(src, MarketSource)
    assert (ev["flags"] == FLAG_SYNTHETIC).all()
    assert (ev["recv_ts_ns"] == ev["exch_ts_ns"]).all()
    assert (np.diff(ev["exch_ts_ns"]) >= 0).all()
    assert ev["exch_ts_ns"][-1] < truth.ts_ns(300.0)
    assert set(np.unique(ev["kind"])) == {EV_BOOK, EV_TRADE, EV_ASSET_CTX}
    assert set(np.unique(ev["coin"])) == {0, 1}
    tids = ev["trade_id"][ev["kind"] == EV_TRADE]
    assert (tids == np.arange(1, len(tids) + 1)).all()
    assert truth.mid_px.shape == (2, 300)
    # ETH is the walk's convention: a tenth of the price.
    assert 0.05 < truth.mid_px[1, 0] / truth.mid_px[0, 0] < 0.2


def test_scenario_when_books_emitted_then_sane_levels_and_counts():
    ev, _ = _run("liquidation_cascade", 1)
    books = ev[ev["kind"] == EV_BOOK]
    assert (books["n_bids"] == 20).all() and (books["n_asks"] == 20).all()
    assert (books["lv"]["bid_px"][:, 0] < books["lv"]["ask_px"][:, 0]).all()
    assert (np.diff(books["lv"]["bid_px"], axis=1) < 0).all()
    assert (np.diff(books["lv"]["ask_px"], axis=1) > 0).all()
    assert (books["lv"]["bid_sz"] > 0).all() and (books["lv"]["ask_sz"] > 0).all()
    assert (books["lv"]["bid_n"] >= 1).all() and (books["lv"]["ask_n"] >= 1).all()
    trades = ev[ev["kind"] == EV_TRADE]
    assert (trades["sz"] > 0).all() and set(np.unique(trades["side"])) == {-1, 1}
    # Large orders sweep: several prints of one order share a timestamp.
    assert (np.diff(trades["exch_ts_ns"]) == 0).sum() > 100
    ctx = ev[ev["kind"] == EV_ASSET_CTX]
    assert (ctx["px"] > 0).all() and (ctx["aux1"] > 0).all() and (ctx["sz"] > 0).all()


def test_quiet_when_orders_counted_then_hawkes_overdispersed():
    _, truth = _run("quiet", 3)
    n = truth.realized["buy_orders"][0] + truth.realized["sell_orders"][0]
    w = n.reshape(-1, 10).sum(1)  # 10 s windows
    assert w.var() / w.mean() > 2.0  # Poisson would give 1
    assert (truth.regime[0] <= 1).all()  # quiet: low and normal only


def test_open_source_when_scenario_unknown_then_error_lists_scenarios():
    with pytest.raises(ValueError, match="trend_selloff") as exc:
        open_source("synthetic:crash", ["BTC"])
    for name in SCENARIOS:
        assert name in str(exc.value)
    with pytest.raises(ValueError, match="bogus_option"):
        open_source("synthetic:quiet", ["BTC"], bogus_option=1)
    with pytest.raises(ValueError, match="duration_s"):
        ScenarioSource(["BTC"], "quiet", duration_s=-5)


# --- scenario signatures against their truth ---------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trend_selloff_when_played_then_flow_and_imbalance_lead_the_drift(seed):
    ev, tr = _run("trend_selloff", seed)
    books = ev[ev["kind"] == EV_BOOK]
    trades = ev[ev["kind"] == EV_TRADE]
    w = tr.windows
    assert (tr.drift_bps_per_s[int(w["drift"][0]) : int(w["drift"][1])] < 0).all()
    assert (tr.drift_bps_per_s[: int(w["drift"][0])] == 0).all()
    mid = tr.mid_px[0]
    d0, d1 = (int(x) for x in w["drift"])
    drift_move_bps = (mid[d1] / mid[d0] - 1) * 1e4
    assert drift_move_bps < -20
    # Minutes before the price moves, the book is ask-heavy and the flow sells.
    calm_books, lead_books = _in(books, tr, *w["calm_before"]), _in(books, tr, *w["lead"])
    assert abs(_book_imbalance(calm_books)) < 0.1
    assert _book_imbalance(lead_books) < -0.25
    calm_share = _sell_share(_in(trades, tr, *w["calm_before"]))
    lead_share = _sell_share(_in(trades, tr, *w["lead"]))
    assert lead_share > max(calm_share + 0.08, 0.58)
    l0, l1 = (int(x) for x in w["lead"])
    assert abs((mid[l1] / mid[l0] - 1) * 1e4) < abs(drift_move_bps)


@pytest.mark.parametrize("seed", [0, 1])
def test_liquidation_cascade_when_played_then_worst_minute_is_worst(seed):
    ev, tr = _run("liquidation_cascade", seed)
    w0, w1 = tr.worst_minute
    c0, c1 = tr.windows["cascade"]
    assert (tr.regime[0, int(c0) : int(c1)] == 3).all()
    assert (tr.regime[0, : int(tr.windows["build_up"][0])] < 3).all()
    mid = tr.mid_px[0]
    minutes = np.arange(0, 1800, 60)
    move_bps = np.array([(mid[min(m + 60, 1799)] / mid[m] - 1) * 1e4 for m in minutes])
    assert minutes[np.argmin(move_bps)] == w0 and move_bps.min() < -50
    books = ev[ev["kind"] == EV_BOOK]
    trades = ev[ev["kind"] == EV_TRADE]
    sell_sz = [trades["sz"][(trades["side"] < 0)
                            & (trades["exch_ts_ns"] >= tr.ts_ns(m))
                            & (trades["exch_ts_ns"] < tr.ts_ns(m + 60))].sum() for m in minutes]
    assert minutes[int(np.argmax(sell_sz))] == w0
    calm, worst = _in(books, tr, *tr.windows["calm_before"]), _in(books, tr, w0, w1)

    def spread(b):
        return float((b["lv"]["ask_px"][:, 0] - b["lv"]["bid_px"][:, 0]).mean())

    def depth(b):
        return float((b["lv"]["bid_sz"].sum(1) + b["lv"]["ask_sz"].sum(1)).mean())

    assert spread(worst) > 4 * spread(calm)
    assert depth(worst) < 0.3 * depth(calm)
    oi = tr.realized["open_interest"][0]
    assert oi[int(c1)] < 0.95 * oi[int(c0)]


def test_funding_spike_when_played_then_funding_zscore_spikes_and_reverts():
    ev, tr = _run("funding_spike", 0)
    ctx = ev[ev["kind"] == EV_ASSET_CTX]
    t_s = (ctx["exch_ts_ns"] - tr.start_ts_ns) / 1e9
    f = ctx["aux0"]
    s0, _ = tr.windows["spike"]
    calm = f[t_s < s0]
    z = (f - calm.mean()) / max(calm.std(), 1e-9)
    assert z[(t_s >= s0) & (t_s < s0 + 120)].max() > 20
    assert f.max() > 1e-4  # about 0.01 %/h and more: extreme for BTC
    assert abs(z[t_s > 1700]).max() < z.max() / 10  # mean-reverted
    spike = (t_s >= s0) & (t_s < s0 + 120)
    assert (ctx["px"][spike] > ctx["aux1"][spike]).all()  # mark above oracle: premium
    assert tr.funding_per_h[0, int(s0) + 60] > 10 * tr.funding_per_h[0, int(s0) - 60]


@pytest.mark.parametrize("seed", [0, 1])
def test_toxic_burst_when_played_then_signed_flow_predicts_the_next_mid_move(seed):
    ev, tr = _run("toxic_burst", seed)
    assert len(tr.bursts) >= 15
    books = ev[ev["kind"] == EV_BOOK]
    trades = ev[ev["kind"] == EV_TRADE]
    book_ts = books["exch_ts_ns"]
    mids = _mids(books)
    flow, move = [], []
    for b in tr.bursts:
        t0 = b["start_s"]
        tw = _in(trades, tr, t0, t0 + 3.0)
        flow.append(float((tw["side"] * tw["sz"]).sum()))
        i0 = np.searchsorted(book_ts, tr.ts_ns(t0 + 3.0))
        i1 = np.searchsorted(book_ts, tr.ts_ns(t0 + 15.0))
        move.append((mids[i1] / mids[i0] - 1) * 1e4)
    flow_arr, move_arr = np.array(flow), np.array(move)
    assert np.corrcoef(flow_arr, move_arr)[0, 1] > 0.4
    assert (np.sign(flow_arr) == tr.bursts["side"]).mean() > 0.7


@pytest.mark.parametrize("seed", [0, 1])
def test_toxic_burst_v2_when_played_then_the_episode_shows_before_the_move(seed):
    """issue 16: in the 4 s before an episode's sweep the informed side trades more
    than the other and the side it is about to hit thins, while the mid has not yet
    made the move (the sweep then moves it the episode's way)."""
    ev, tr = _run("toxic_burst_v2", seed)
    books, trades = ev[ev["kind"] == EV_BOOK], ev[ev["kind"] == EV_TRADE]
    book_ts, mids = books["exch_ts_ns"], _mids(books)
    lead_flow, thin, lead_move, sweep_move = [], [], [], []
    for b in tr.bursts:
        t0, t_sw, t1, side = b["start_s"], b["move_start_s"], b["move_end_s"], b["side"]
        lead = _in(trades, tr, t0, t_sw)
        lead_flow.append(float((lead["side"] == side).mean()))
        hit = "ask_sz" if side > 0 else "bid_sz"  # informed buying lifts the asks
        thin.append(_depth(_in(books, tr, t0 + 0.5, t_sw), hit)
                    / _depth(_in(books, tr, t0 - 20.0, t0 - 5.0), hit))
        i0, i1, i2 = (np.searchsorted(book_ts, tr.ts_ns(x)) for x in (t0, t_sw, t1 + 1.0))
        lead_move.append(side * (mids[i1] / mids[i0] - 1) * 1e4)
        sweep_move.append(side * (mids[i2] / mids[i1] - 1) * 1e4)
    assert len(tr.bursts) >= 15
    assert np.median(lead_flow) > 0.6  # one-sided aggression before the move (calm: 0.5)
    assert np.median(thin) < 0.6  # the side about to be hit has thinned
    assert np.median(sweep_move) > 5.0 and np.median(sweep_move) > 3 * abs(np.median(lead_move))


@pytest.mark.parametrize("seed", [0, 1])
def test_toxic_burst_v3_when_played_then_the_lead_says_when_not_which_way(seed):
    """issue 16: in the 5 s before an episode's sweep both sides of the book thin and
    the spread widens and trading quickens, on both sides alike (the episode's side
    trades no more than the other), while the mid has not moved; the sweep then moves
    it the episode's way."""
    ev, tr = _run("toxic_burst_v3", seed)
    books, trades = ev[ev["kind"] == EV_BOOK], ev[ev["kind"] == EV_TRADE]
    book_ts, mids = books["exch_ts_ns"], _mids(books)
    spread = books["lv"]["ask_px"][:, 0] - books["lv"]["bid_px"][:, 0]
    thin, wide, busy, side_share, lead_move, sweep_move = [], [], [], [], [], []
    for b in tr.bursts:
        t0, t_sw, t1, side = b["start_s"], b["move_start_s"], b["move_end_s"], b["side"]
        lead_b, calm_b = _in(books, tr, t0 + 0.5, t_sw), _in(books, tr, t0 - 20.0, t0 - 5.0)
        thin.append(max(_depth(lead_b, k) / _depth(calm_b, k) for k in ("bid_sz", "ask_sz")))
        m_lead = (book_ts >= tr.ts_ns(t0 + 0.5)) & (book_ts < tr.ts_ns(t_sw))
        m_calm = (book_ts >= tr.ts_ns(t0 - 20.0)) & (book_ts < tr.ts_ns(t0 - 5.0))
        wide.append(spread[m_lead].mean() / spread[m_calm].mean())
        lead = _in(trades, tr, t0, t_sw)
        busy.append((len(lead) / (t_sw - t0)) / (len(_in(trades, tr, t0 - 20.0, t0 - 5.0)) / 15.0))
        side_share.append(float((lead["side"] == side).mean()))
        i0, i1, i2 = (np.searchsorted(book_ts, tr.ts_ns(x)) for x in (t0, t_sw, t1 + 1.0))
        lead_move.append(side * (mids[i1] / mids[i0] - 1) * 1e4)
        sweep_move.append(side * (mids[i2] / mids[i1] - 1) * 1e4)
    assert len(tr.bursts) >= 15
    assert np.median(thin) < 0.6  # both sides thin: the thicker one keeps < 60 % of its depth
    assert np.median(wide) > 1.5 and np.median(busy) > 1.5
    assert abs(np.median(side_share) - 0.5) < 0.1  # the lead does not tell the side
    assert np.median(sweep_move) > 5.0 and np.median(sweep_move) > 3 * abs(np.median(lead_move))


def test_truth_when_read_before_any_pass_then_same_as_after_a_pass():
    a = ScenarioSource(["BTC"], "funding_spike", seed=4, duration_s=120).truth
    src = ScenarioSource(["BTC"], "funding_spike", seed=4, duration_s=120)
    for _ in src.chunks(100):
        pass
    b = src.truth
    for k in a.realized:
        assert np.array_equal(a.realized[k], b.realized[k])
    assert a.windows == b.windows
