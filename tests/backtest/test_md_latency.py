"""Market-data latency in the backtester: the venue sees each event at its time, the
strategy (estimator, requote and sample timers) md latency later, in order."""

import numpy as np
import pytest

from appliance.backtest import Simulation
from appliance.backtest.load import load_events
from appliance.backtest.report import fills_digest
from appliance.config import load_config
from shm_layout.constants import EV_BOOK
from shm_layout.records import MD_EVENT

T0_NS = 1_700_000_000_000_000_000


def _cfg(**backtest):
    return load_config(overrides={
        "feed": {"synthetic_sigma_bps_per_sqrt_s": 20.0, "synthetic_events_per_s": 200.0},
        "backtest": {"synthetic_duration_s": 20.0, **backtest},
    })


@pytest.fixture(scope="module")
def synthetic_events():
    events, _ = load_events("synthetic", seed=4, duration_s=20.0)
    return events


def _run(cfg, events, chunk=None, seed=4, lagged=None):
    s = Simulation(cfg, seed=seed, lagged=lagged)
    chunk = chunk or events.shape[0]
    for i in range(0, events.shape[0], chunk):
        s.feed(events[i : i + chunk])
    s.finish()
    fills, markouts, samples = s.outputs()
    return s, fills_digest(fills), samples.tobytes(), fills.shape[0]


def _scripted_books(n=700, dt_ms=10):
    """Books every ``dt_ms`` around a seeded walk; a trade-free market the quote warms up on."""
    ev = np.zeros(n, MD_EVENT)
    rng = np.random.default_rng(1)
    mid = 50_000.0
    for i in range(n):
        mid += rng.normal() * 2.0
        e = ev[i]
        e["seq"] = i + 1
        e["kind"] = EV_BOOK
        e["exch_ts_ns"] = e["recv_ts_ns"] = T0_NS + i * dt_ms * 1_000_000
        e["n_bids"] = e["n_asks"] = 5
        for k in range(5):
            e["lv"]["bid_px"][k] = round(mid - 0.5 - k, 1)
            e["lv"]["ask_px"][k] = round(mid + 0.5 + k, 1)
            e["lv"]["bid_sz"][k] = e["lv"]["ask_sz"][k] = 1.0
            e["lv"]["bid_n"][k] = e["lv"]["ask_n"][k] = 3
    return ev


def _first_placed_ns(s):
    o = s.va.orders
    placed = o["placed_ns"][o["oid"] > 0]
    return int(placed.min()) if placed.size else None


def test_digest_when_md_latency_zero_then_identical_to_the_loop_without_it(synthetic_events):
    cfg = _cfg()
    fast, d_fast, sm_fast, n_fast = _run(cfg, synthetic_events)
    lag, d_lag, sm_lag, _ = _run(cfg, synthetic_events, lagged=True)
    assert fast.lagged is False and lag.lagged is True  # the default takes the old loop
    assert n_fast > 0
    assert d_lag == d_fast and sm_lag == sm_fast
    assert int(lag.st[0]["n_md_delivered"]) == int(lag.st[0]["n_events"])


def test_quote_when_md_latency_set_then_reacts_that_much_later():
    ev = _scripted_books()
    lat_ms = 200
    base = Simulation(load_config(overrides={"backtest": {"sample_interval_ms": 10}}))
    late = Simulation(load_config(overrides={"backtest": {"sample_interval_ms": 10,
                                                          "md_latency_ms": float(lat_ms)}}))
    for s in (base, late):
        s.feed(ev)
        s.finish()
    _, _, sm0 = base.outputs()
    _, _, sm1 = late.outputs()
    lat_ns = lat_ms * 1_000_000
    # the strategy's first look at the market (first sample) and the first order placed
    assert int(sm0["ts_ns"][0]) == T0_NS
    assert int(sm1["ts_ns"][0]) == T0_NS + lat_ns
    p0, p1 = _first_placed_ns(base), _first_placed_ns(late)
    assert p0 is not None and p1 is not None
    assert p1 - p0 == lat_ns
    # every event reaches the strategy, the last ones in finish()
    st = late.st[0]
    assert int(st["n_md_delivered"]) == int(st["n_events"]) == ev.shape[0]
    assert int(st["now_ns"]) == int(ev["recv_ts_ns"][-1]) + lat_ns


def test_digest_when_md_latency_with_jitter_run_twice_then_identical(synthetic_events):
    cfg = _cfg(md_latency_ms=30.0, md_latency_jitter_ms=10.0, md_latency_sigma=0.8)
    _, d1, sm1, n1 = _run(cfg, synthetic_events)
    _, d2, sm2, _ = _run(cfg, synthetic_events)
    _, d0, _, _ = _run(_cfg(), synthetic_events)
    assert n1 > 0
    assert d1 == d2 and sm1 == sm2
    assert d1 != d0  # the latency changes what the strategy does


def test_digest_when_md_latency_and_tiny_chunks_then_same_as_one_chunk(synthetic_events):
    # 200 ms at 200 events/s: ~40 events in flight, carried across chunks of 7
    cfg = _cfg(md_latency_ms=200.0, md_latency_jitter_ms=20.0)
    runs = [_run(cfg, synthetic_events, chunk=c) for c in (None, 777, 7)]
    assert runs[0][3] > 0
    for _s, d, sm, _ in runs[1:]:
        assert (d, sm) == (runs[0][1], runs[0][2])
    for s, *_ in runs:
        assert int(s.st[0]["n_md_delivered"]) == int(s.st[0]["n_events"])


def test_config_when_md_latency_negative_then_rejected():
    from appliance.config import ConfigError

    with pytest.raises(ConfigError, match="md_latency_ms"):
        load_config(overrides={"backtest": {"md_latency_ms": -1.0}})
