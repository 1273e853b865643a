"""The risk checks over real segments: each returns a reason, or None."""

import math
import os
import time

import numpy as np
import pytest

from appliance.config import load_config
from appliance.ipc import byte_rows, seqlock
from appliance.risk import checks
from shm_layout import InstanceMemory, records


@pytest.fixture
def view(tmp_path):
    instance = f"risk{os.getpid()}"
    InstanceMemory.unlink_all(instance)
    mem = InstanceMemory.create(instance, lock=False)
    cfg = load_config(overrides={"appliance": {"coins": ["BTC", "ETH"]}})
    v = checks.RiskView(cfg, mem, str(tmp_path / "KILL"), time.monotonic_ns())
    try:
        yield v
    finally:
        mem.close()
        InstanceMemory.unlink_all(instance)


def _set_position(v, coin, **fields):
    rec = np.zeros(1, records.POSITION_STATE)
    for k, val in fields.items():
        rec[k] = val
    seqlock.write_block(v.mem.position.seqs, v.mem.position.rows, coin, byte_rows(rec)[0])


def test_checks_when_flat_and_fresh_then_no_reason(view):
    view.mem.md.ring_header[0]["last_pub_mono_ns"] = time.monotonic_ns()
    assert checks.first_reason(view) is None


def test_check_position_when_beyond_limit_then_reason_names_coin(view):
    _set_position(view, 1, position_sz=-0.06)
    reason = checks.first_reason(view)
    assert "ETH" in reason and "max_position_sz" in reason


def test_check_position_when_not_finite_then_reason(view):
    _set_position(view, 0, position_sz=math.nan)
    assert "BTC" in checks.first_reason(view)


def test_check_loss_when_coins_together_lose_too_much_then_reason(view):
    _set_position(view, 0, total_pnl_usd=-300.0)
    view.positions = checks.read_positions(view)
    assert checks.check_loss(view) is None
    _set_position(view, 1, total_pnl_usd=-250.0)  # -550 against max_loss_usd 500
    assert "max_loss_usd" in checks.first_reason(view)


def test_check_stale_data_when_feed_silent_then_reason(view):
    view.mem.md.ring_header[0]["last_pub_mono_ns"] = time.monotonic_ns() - int(11e9)
    view.started_mono_ns = time.monotonic_ns() - int(12e9)
    assert "stale" in checks.first_reason(view)


def test_check_stale_data_when_no_event_yet_then_first_data_allowance(view):
    view.started_mono_ns = time.monotonic_ns() - int(11e9)
    assert checks.check_stale_data(view) is None  # within first_data_timeout_s (60 s)
    view.started_mono_ns = time.monotonic_ns() - int(61e9)
    assert "no market data" in checks.check_stale_data(view)


def test_check_kill_switch_file_when_present_then_first_reason(view, tmp_path):
    (tmp_path / "KILL").touch()
    _set_position(view, 0, position_sz=1.0)
    assert "kill switch file" in checks.first_reason(view)
