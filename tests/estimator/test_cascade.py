"""The liquidation cascade detector: the module on known inputs, and the whole estimator
kernel on the synthetic cascade (fires, holds through the worst minute, with or without
open interest) and on real captures (ordinary bursts: stays quiet)."""

from pathlib import Path

import numpy as np
import pytest

from appliance.config import load_config
from appliance.estimator import cascade, kernel
from appliance.feed.events import concat_events
from appliance.feed.sources import open_source
from shm_layout import estimators as declared
from shm_layout.constants import EV_ASSET_CTX

EST = load_config().estimator
C = EST.cascade
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REAL = [(DATA / "binance_usdm" / "btcusdt_20240808.gz", "BTC"),
        (DATA / "binance_usdm" / "ethusdt_20240808.gz", "ETH"),
        (DATA / "hyperliquid" / "btc_ws_20250126.gz", "BTC")]
TICK_NS = 100_000_000  # the warm tier's interval


def _module():
    cfg = np.array(cascade.config_values(EST), dtype=np.float64)
    st = np.zeros(1, declared.cascade.STATE)[0]
    cascade.init(st, cfg)
    return st, cfg


def _feed(st, cfg, t_ns, seconds, rate_sz_per_s, mid=100_000.0, oi=0.0, step_ns=TICK_NS):
    """Warm ticks for ``seconds`` at a constant volume rate (5 s and 30 s alike);
    returns the end time and the pull flag at every tick."""
    pulls = []
    for _ in range(int(seconds * 1e9 / step_ns)):
        t_ns += step_ns
        cascade.warm(st, cfg, float(t_ns), mid, oi, rate_sz_per_s, rate_sz_per_s, 1.0)
        pulls.append(st["pull"])
    return t_ns, np.array(pulls)


def test_severity_when_move_without_volume_then_zero_and_with_volume_then_amplified():
    _, cfg = _module()
    assert cascade.severity_of(cfg, 1.0, 10.0, 0.0) == 0.0  # a jump on ordinary volume
    assert cascade.severity_of(cfg, 3.3, 2.9, 0.0) < C.pull_exit  # the real BTCUSDT maxima
    surge = cascade.severity_of(cfg, 6.0, 0.0, 0.0)
    assert 0.0 < surge < C.pull_enter
    assert cascade.severity_of(cfg, 6.0, 6.0, 0.0) > C.pull_enter > surge
    assert cascade.severity_of(cfg, 0.0, 0.0, 4 * C.oi_drop_ref_bps_per_min) > C.pull_enter


def test_cascade_when_surge_lasts_then_pulled_throughout_and_baseline_keeps_calm_level():
    st, cfg = _module()
    t, pulls = _feed(st, cfg, 1_000_000_000, 400.0, 1.0)
    assert not pulls.any() and cascade.baseline_rate(st, cfg) == pytest.approx(1.0)
    t, pulls = _feed(st, cfg, t, 300.0, 20.0)  # five minutes of 20x volume
    assert pulls[0] == 1.0 and pulls.all() and st["n_pulls"] == 1.0
    # the storm barely teaches the baseline (an ungated 300 s average would be at 10.5)
    assert cascade.baseline_rate(st, cfg) < 2.5 and st["rate_ratio"] > 8.0
    t, pulls = _feed(st, cfg, t, 2 * C.pull_hold_s, 1.0)
    n_hold = int(C.pull_hold_s * 1e9 / TICK_NS)
    assert pulls[: n_hold - 1].all() and not pulls[-1]  # released after the hold, not before


def test_cascade_when_surge_becomes_the_new_normal_then_baseline_adapts_and_pull_ends():
    st, cfg = _module()
    t, _ = _feed(st, cfg, 1_000_000_000, 400.0, 1.0, step_ns=1_000_000_000)
    t, pulls = _feed(st, cfg, t, 4 * 3600.0, 12.0, step_ns=1_000_000_000)
    assert pulls[0] == 1.0 and pulls[-1] == 0.0  # no pull stuck on a lasting new level
    assert cascade.baseline_rate(st, cfg) > 6.0


def test_cascade_when_burst_before_baseline_has_history_then_no_pull():
    st, cfg = _module()
    t, pulls = _feed(st, cfg, 1_000_000_000, 20.0, 1.0)
    t, pulls = _feed(st, cfg, t, 10.0, 50.0)  # a cold start sees any burst as huge
    assert not pulls.any() and st["rate_ratio"] == 0.0


def _events(spec, coin, seed=None, duration_s=None):
    kw = {} if duration_s is None else {"duration_s": duration_s}
    src = open_source(spec, [coin], seed=seed, **kw) if seed is not None else open_source(spec, [coin])
    return concat_events(list(src.chunks(65536)))


def _replay(evs):
    """The full estimator kernel over ``evs``: (seconds from start, pull, severity) per event."""
    cfg = kernel.config_vector(EST)
    state = kernel.new_states(1)[0]
    kernel.init_state(state, cfg)
    n = len(evs)
    pull, sev = np.zeros(n), np.zeros(n)
    for i, ev in enumerate(evs):
        kernel.on_event(state, cfg, ev)
        pull[i] = state["cascade"]["pull"]
        sev[i] = state["cascade"]["severity"]
    t_s = (evs["exch_ts_ns"] - evs["exch_ts_ns"][0]) * 1e-9
    return t_s, pull, sev


@pytest.mark.parametrize("with_oi", [True, False])
def test_kernel_when_synthetic_liquidation_cascade_then_pulled_through_the_worst_minute(with_oi):
    evs = _events("synthetic:liquidation_cascade", "BTC", seed=1, duration_s=1100.0)
    if not with_oi:  # a feed without open interest (Binance): the volume surge carries it
        evs = evs[evs["kind"] != EV_ASSET_CTX]
    t, pull, sev = _replay(evs)
    worst = (t >= 1020.0) & (t < 1080.0)
    assert pull[worst].all() and sev[worst].min() > C.pull_enter
    assert not pull[t < 840.0].any()  # calm before the build-up
    first = t[pull > 0][0]
    assert 960.0 < first < 1000.0  # the cascade opens at 960 s


@pytest.mark.parametrize("path,coin", REAL, ids=[p.name for p, _ in REAL])
def test_kernel_when_real_capture_with_ordinary_bursts_then_never_pulls(path, coin):
    if not path.is_file():
        pytest.skip(f"real capture missing: {path}")
    t, pull, sev = _replay(_events(f"replay:{path}", coin))
    assert not pull.any()
    assert sev.max() < C.pull_exit
