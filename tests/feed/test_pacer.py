from pathlib import Path

import numpy as np
import pytest

from appliance.feed.pacer import Pacer
from appliance.feed.sources import open_source

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HL = DATA / "hyperliquid" / "btc_ws_20250126.gz"


def _drain(pacer, limit=10_000_000):
    out, n = [], 0
    while not pacer.finished and n < limit:
        chunk, a, b = pacer.due()
        if b > a:
            out.append(chunk[a:b].copy())
            n += b - a
    return np.concatenate(out) if out else np.zeros(0)


@pytest.fixture
def hl_source():
    if not HL.exists():
        pytest.skip(f"real capture missing: {HL}")
    return open_source(f"replay:{HL}", ["BTC"])


def test_pacer_when_speed_zero_and_no_loop_then_whole_capture_once(hl_source):
    events = _drain(Pacer(hl_source, speed=0, loop=False))
    assert len(events) == hl_source.stats.events > 0
    assert np.all(np.diff(events["recv_ts_ns"]) >= 0)


def test_pacer_when_looping_then_time_keeps_increasing_across_passes(hl_source):
    pacer = Pacer(hl_source, speed=0, loop=True)
    one = _drain(Pacer(open_source(f"replay:{HL}", ["BTC"]), 0, False))
    events = _drain(pacer, limit=3 * len(one))
    assert pacer.passes >= 3
    assert np.all(np.diff(events["recv_ts_ns"]) >= 0)
    books = events["exch_ts_ns"][events["kind"] == 1]
    assert np.all(np.diff(books) >= 0) and (
        events["recv_ts_ns"][-1] - events["recv_ts_ns"][0]
        > 2 * (one["recv_ts_ns"][-1] - one["recv_ts_ns"][0]))


def test_pacer_when_resuming_after_restart_then_skips_what_was_published(hl_source):
    full = _drain(Pacer(hl_source, speed=0, loop=False))
    cut = int(full["recv_ts_ns"][len(full) // 2])
    rest = _drain(Pacer(open_source(f"replay:{HL}", ["BTC"]), 0, False, resume_after_ns=cut))
    assert len(rest) > 0 and rest["recv_ts_ns"][0] > cut
    assert rest.tobytes() == full[full["recv_ts_ns"] > cut].tobytes()


def test_pacer_when_recorded_pace_then_nothing_due_before_its_time():
    src = open_source("synthetic", ["BTC"], seed=3, events_per_s=1.0)  # one event a second
    pacer = Pacer(src, speed=1.0, loop=False)
    chunk, a, b = pacer.due()
    assert b - a == 1  # the first event is due at once
    chunk, a, b = pacer.due()
    assert b == a  # the next one is a second of source time away


def test_pacer_when_capped_then_hands_out_at_most_that_many_and_keeps_the_rest_due():
    src = open_source("synthetic", ["BTC"], seed=5, events_per_s=1000.0)
    whole = _drain(Pacer(src, speed=0, loop=False), limit=5000)
    pacer = Pacer(open_source("synthetic", ["BTC"], seed=5, events_per_s=1000.0), speed=0, loop=False)
    parts, n = [], 0
    while n < 5000:
        chunk, a, b = pacer.due(max_events=7)
        assert b - a <= 7
        if b > a:
            parts.append(chunk[a:b].copy())
            n += b - a
    got = np.concatenate(parts)[:5000]
    assert got.tobytes() == whole[:5000].tobytes()
