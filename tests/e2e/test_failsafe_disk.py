"""The state directory on a full filesystem, with the appliance trading against the
local venue (real processes): the kill flag goes up naming ENOSPC, nothing of ours
rests at the venue (openOrders), the gateway does not crash-loop, and once space is
freed and the flag reset, quoting resumes. Then a gateway killed and restarted under
a full disk comes up, cancels and stays up.

The state directory (journal, logs, gateway.json, the local venue's files) is on a
small tmpfs that the test fills; it needs root (or CAP_SYS_ADMIN) to mount one and
skips otherwise. The time from the full disk to 0 open orders is printed (recorded
in BENCHMARKS.md), not asserted."""

from __future__ import annotations

import os
import signal
import time
import urllib.request

from appliance_helpers import force_cleanup, inspect, mmctl, status, wait_for, write_config
from gateway_fakes import fill_disk, small_tmpfs
from hl_e2e_helpers import TRADING_CONFIG, venue_info, venue_open_orders, venue_url, wait_quoting

from shm_layout.constants import DMS_REFUSED


def _gateway(inst: str) -> dict:
    return next(p for p in status(inst)["processes"] if p["name"] == "gateway")


def _running_again(inst: str, old_pid: int) -> bool:
    gw = _gateway(inst)
    return gw["pid"] not in (0, old_pid) and gw["state"] == "running"


def test_state_dir_full_when_trading_then_kill_enospc_and_no_order_rests(tmp_path):
    with small_tmpfs(tmp_path / "disk", "32m") as disk:
        instance = f"disk{os.getpid()}"
        cfg, port = write_config(disk, TRADING_CONFIG)
        filler = disk / "filler"
        try:
            mmctl("start", "--instance", instance, "--config", cfg)
            url = venue_url(disk, instance)
            assert wait_quoting(url), "no order rests at the venue"
            restarts = _gateway(instance)["restarts"]
            fills_before = len(venue_info(url, "userFills"))

            t_fill = time.monotonic()
            filled = fill_disk(filler)
            t_full = time.monotonic()
            assert wait_for(lambda: venue_open_orders(url) == [], 20, 0.02), "orders still rest"
            t_empty = time.monotonic()
            print(f"\ndisk full ({filled / 1e6:.1f} MB in {(t_full - t_fill) * 1e3:.0f} ms) -> "
                  f"0 open orders at the venue: {(t_empty - t_full) * 1e3:.0f} ms "
                  f"({(t_empty - t_fill) * 1e3:.0f} ms from the start of the fill)")

            kill = wait_for(lambda: (k := status(instance)["kill"])["active"] and k, 10)
            assert kill, "kill flag not raised"
            assert "ENOSPC" in kill["reason"] and kill["reason"].startswith("gateway: journal"), kill
            # held: nothing placed while the disk is full, no crash loop, the venue lived on
            time.sleep(5.0)
            assert venue_open_orders(url) == []
            gw = _gateway(instance)
            assert gw["alive"] and gw["restarts"] == restarts, gw
            assert len(venue_info(url, "userFills")) >= fills_before  # the same venue

            ctl = inspect(instance, "control")["fields"]
            assert ctl["gw_dms_state"] == DMS_REFUSED  # young account
            # The kill may come from the gateway's disk check before any journal write
            # fails (the reason above names ENOSPC either way): the failed writes, if any,
            # are counted and exported as they are.
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            (line,) = [x for x in body.splitlines() if x.startswith("mm_gateway_journal_errors_total")]
            assert float(line.split()[-1]) == ctl["gw_journal_errors"]

            filler.unlink()
            mmctl("kill", "--reset", "--reason", "disk space freed", "--instance", instance,
                  "--config", cfg)
            assert wait_for(lambda: len(venue_open_orders(url)) >= 2, 40), "quoting did not resume"
            assert not status(instance)["kill"]["active"]

            # A gateway restarted under a full disk (journal compaction and writes fail):
            # it comes up, raises the flag, cancels, and stays up.
            errors = ctl["gw_journal_errors"]
            pid = _gateway(instance)["pid"]
            os.kill(pid, signal.SIGKILL)
            fill_disk(filler)
            assert wait_for(lambda: _running_again(instance, pid), 60), "gateway not back"
            assert wait_for(lambda: inspect(instance, "control")["fields"]["gw_journal_errors"] > errors, 20)
            assert wait_for(lambda: venue_open_orders(url) == [], 20), "orders still rest"
            assert status(instance)["kill"]["active"]
            time.sleep(5.0)
            gw = _gateway(instance)
            assert gw["alive"] and gw["restarts"] == restarts + 1, gw
            assert venue_open_orders(url) == []
        finally:
            filler.unlink(missing_ok=True)
            mmctl("stop", "--instance", instance, check=False)
            force_cleanup(instance)
