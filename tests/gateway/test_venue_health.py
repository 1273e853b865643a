"""Gateway health in the control block: the dead man's switch state (retried on a short
schedule when refused), the time of the last accepted scheduleCancel, the address rate
headroom, and a full journal disk noticed without a write."""

from __future__ import annotations

from gateway_fakes import GatewayParts, small_tmpfs

from appliance.gateway.hyperliquid.dead_mans_switch import DMS_RETRY_S
from appliance.gateway.hyperliquid.executor import publish_health
from shm_layout.constants import DMS_ACTIVE, DMS_OFF, DMS_REFUSED


def test_dead_man_when_refused_then_published_and_retried_soon_then_active(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    ex.venue.refuse_dms = True
    ex.dms.step(100.0)
    assert ex.dms.state == "refused" and int(ex.ctx.control["gw_dms_state"]) == DMS_REFUSED
    assert int(ex.ctx.control["gw_dms_ok_ts_ns"]) == 0
    assert DMS_RETRY_S <= 60.0 and ex.dms.next_at == 100.0 + DMS_RETRY_S
    ex.dms.step(100.0 + DMS_RETRY_S - 1.0)  # not yet
    assert ex.venue.kinds().count("scheduleCancel") == 1
    ex.venue.refuse_dms = False  # the account traded enough
    ex.dms.step(100.0 + DMS_RETRY_S)
    assert ex.dms.state == "active" and int(ex.ctx.control["gw_dms_state"]) == DMS_ACTIVE
    assert int(ex.ctx.control["gw_dms_ok_ts_ns"]) > 0
    ex.kill_switch.cancel_all_bounded(lambda: 0)  # a graceful stop: nothing rests ...
    ex.dms.unset()  # ... and the switch is unset
    assert ex.venue.actions[-1] == {"type": "scheduleCancel"}
    assert int(ex.ctx.control["gw_dms_state"]) == DMS_OFF


def test_publish_health_when_rate_limit_known_then_address_headroom_else_minus_one(tmp_path):
    ex = GatewayParts(tmp_path / "j.jsonl")
    publish_health(ex.control, ex.dms, ex.budget)
    assert float(ex.ctx.control["gw_rate_headroom_frac"]) == -1.0  # no userRateLimit yet
    ex.budget.update_user_rate_limit({"nRequestsCap": 10_000, "nRequestsUsed": 2_500})
    publish_health(ex.control, ex.dms, ex.budget)
    assert float(ex.ctx.control["gw_rate_headroom_frac"]) == 0.75
    assert not ex.ctx.control["kill_flag"]


def test_publish_health_when_journal_disk_full_then_kill_flag_without_a_write(tmp_path):
    with small_tmpfs(tmp_path / "mnt", "256k") as mnt:
        ex = GatewayParts(mnt / "j.jsonl")
        (mnt / "filler").write_bytes(b"x" * 200_000)  # writes would still fit; not for long
        ex.guard.check_disk(ex.journal, 1.0)
        reason = ex.ctx.control["kill_reason"].decode()
        assert ex.ctx.control["kill_flag"] and reason.startswith("gateway: journal ENOSPC [Errno 28]")
        assert ex.journal.n == 0
