"""mmctl status / inspect: read-only views of a running instance."""

import json
import time

import click

from appliance.ipc import seqlock
from appliance.risk.scoring import block as scores_block
from appliance.runtime import latency
from appliance.runtime.control import kill_state, pid_alive, proc_status
from shm_layout.constants import (
    APPLIANCE_STATE_NAMES,
    DMS_STATE_NAMES,
    LRC_STATE_NAMES,
    N_CHILDREN,
    PROC_QUOTE,
    PROC_SUPERVISOR,
    PULL_REASON_NAMES,
    RISK_ACTION_NAMES,
)

from .common import attach_or_fail, instance_option, json_option, record_dict

BLOCKS = {"params": "params", "ladder": "ladder", "position": "position", "scores": "scores"}


def status_dict(mem) -> dict:
    ctl = mem.control.records[0]
    now = time.monotonic_ns()
    q50, q99 = latency.quantiles(ctl["procs"][PROC_QUOTE]["lat_hist"])
    state = int(ctl["state"])
    name = APPLIANCE_STATE_NAMES[state] if state < len(APPLIANCE_STATE_NAMES) else "?"
    sup = proc_status(ctl, PROC_SUPERVISOR, now)
    sup["pid"] = int(ctl["supervisor_pid"])
    sup["alive"] = pid_alive(sup["pid"])  # the pid, not the block: a kill -9 writes nothing
    if not sup["alive"] and name in ("starting", "running", "stopping"):
        name = "supervisor dead"
    venue_pid = int(ctl["venue_pid"])
    dms = int(ctl["gw_dms_state"])
    lrc = int(ctl["canceller_state"])
    ra = int(ctl["risk_action"])
    return {
        "instance": ctl["instance"].decode(),
        "state": name,
        "supervisor": sup,
        "venue": {"pid": venue_pid, "alive": pid_alive(venue_pid)} if venue_pid else None,
        "dead_man_switch": {
            "state": DMS_STATE_NAMES[dms] if dms < len(DMS_STATE_NAMES) else "?",
            "last_ok_ts_ns": int(ctl["gw_dms_ok_ts_ns"]),
        },
        "last_resort_canceller": {
            "state": LRC_STATE_NAMES[lrc] if lrc < len(LRC_STATE_NAMES) else "?",
            "runs": int(ctl["canceller_runs"]),
            "cancelled": int(ctl["canceller_cancelled"]),
            "last_ts_ns": int(ctl["canceller_last_ts_ns"]),
        },
        "risk_action": {
            "action": RISK_ACTION_NAMES[ra] if ra < len(RISK_ACTION_NAMES) else "?",
            "check": ctl["risk_action_check"].decode(errors="replace"),
        },
        "processes": [proc_status(ctl, p, now) for p in range(N_CHILDREN)],
        "kill": kill_state(ctl),
        "clock": {
            "ok": bool(ctl["clock_ok"]),
            "offset_ms": int(ctl["clock_offset_ns"]) / 1e6,
            "max_error_us": int(ctl["clock_max_error_us"]),
        },
        "event_to_ladder_us": {
            "p50": None if q50 is None else round(q50 / 1e3, 2),
            "p99": None if q99 is None else round(q99 / 1e3, 2),
            "samples": int(ctl["procs"][PROC_QUOTE]["lat_count"]),
        },
    }


def _render_status(st: dict) -> str:
    sup = st["supervisor"]
    lines = [f"instance {st['instance']}: {st['state']} (supervisor pid {sup['pid']}"
             f"{'' if sup['alive'] else ', NOT ALIVE'})"]
    if st["state"] == "supervisor dead":
        lines.append("WARNING: the supervisor is gone; `mmctl stop` ends what is left, "
                     "`mmctl start` ends it and starts afresh")
    lines.append(f"{'process':<10}{'pid':>8}  {'cpus':<8}{'alive':<7}{'state':<11}"
                 f"{'hb_age_ms':>10}{'restarts':>9}{'events':>11}{'errors':>7}")
    for p in st["processes"]:
        age = "-" if p["heartbeat_age_ms"] is None else f"{p['heartbeat_age_ms']:.1f}"
        lines.append(f"{p['name']:<10}{p['pid']:>8}  {','.join(map(str, p['cpus'])):<8}"
                     f"{'yes' if p['alive'] else 'NO':<7}{p['state']:<11}{age:>10}"
                     f"{p['restarts']:>9}{p['events']:>11}{p['errors']:>7}")
    v = st["venue"]
    if v is not None:
        lines.append(f"local venue: pid {v['pid']} {'alive' if v['alive'] else 'NOT ALIVE'}")
    k = st["kill"]
    lines.append("kill: " + (f"ACTIVE ({k['source']}: {k['reason']})" if k["active"] else "clear"))
    ra = st["risk_action"]
    if ra["action"] != "none":
        lines.append(f"risk action: {ra['action']} ({ra['check']})")
    lrc = st["last_resort_canceller"]
    lines.append(f"dead man's switch: {st['dead_man_switch']['state']}; last-resort canceller: "
                 f"{lrc['state']} ({lrc['runs']} runs, {lrc['cancelled']} orders cancelled)")
    lat = st["event_to_ladder_us"]
    if lat["p50"] is not None:
        lines.append(f"event->ladder: p50 {lat['p50']} us, p99 {lat['p99']} us "
                     f"({lat['samples']} ladders)")
    c = st["clock"]
    lines.append(f"clock: {'ok' if c['ok'] else 'NOT OK'}, offset {c['offset_ms']:.3f} ms")
    return "\n".join(lines)


@click.command()
@instance_option
@json_option
def status(instance, as_json):
    """Processes (pid, cpus, heartbeat, restarts), kill state, event->ladder latency."""
    mem = attach_or_fail(instance, writable=False, names=["control"])
    try:
        st = status_dict(mem)
    finally:
        mem.close()
    click.echo(json.dumps(st, indent=2) if as_json else _render_status(st))


def scores_dict(mem, coin_idx: int, coin: str) -> dict:
    """The model scorer's block by model and metric (risk/scoring/block.py)."""
    rec, _ = seqlock.snapshot(mem.scores, coin_idx)
    return {"block": "scores", "coin_index": coin_idx,
            **scores_block.scores_dict(rec, coin, time.monotonic_ns())}


def inspect_dict(mem, what: str, coin_idx: int) -> dict:
    if what == "control":
        rec = mem.control.records[0]
        return {"block": "control", "fields": record_dict(rec)}
    seg = getattr(mem, BLOCKS[what])
    rec, seq = seqlock.snapshot(seg, coin_idx)
    now = time.monotonic_ns()  # after the read: its first call may compile
    fields = record_dict(rec)
    out = {"block": what, "coin_index": coin_idx, "seq": seq}
    upd = int(rec["update_mono_ns"])
    out["age_ms"] = None if upd == 0 else round((now - upd) / 1e6, 3)
    if what == "ladder":
        fields["pulled_reason_name"] = PULL_REASON_NAMES[int(rec["pulled_reason"])]
    if what == "position":  # the venue account's margin (gateway/hyperliquid/account.py)
        acc = int(rec["account_update_mono_ns"])
        out["account_age_ms"] = None if acc == 0 else round((now - acc) / 1e6, 3)
    out["fields"] = fields
    return out


def _render(d: dict, coin: str) -> str:
    head = f"{d['block']}" + (f" [{coin}] seq {d['seq']} age {d['age_ms']} ms" if "seq" in d else "")
    if "account_age_ms" in d:
        head += f", account age {d['account_age_ms']} ms"
    lines = [head]
    for k, v in d["fields"].items():
        if k == "procs":
            for p in v:
                lines.append(f"  procs: {json.dumps({x: y for x, y in p.items() if x != 'lat_hist'})}")
            continue
        lines.append(f"  {k} = {v}")
    return "\n".join(lines)


@click.command()
@click.argument("what", type=click.Choice(["params", "ladder", "position", "control", "scores"]))
@click.option("--coin", default=None, help="Coin (default: the first configured).")
@instance_option
@json_option
@click.option("--watch", is_flag=True, help="Refresh until interrupted.")
@click.option("--interval", type=float, default=1.0, show_default=True, help="--watch period, s.")
def inspect(what, coin, instance, as_json, watch, interval):
    """A live, consistent dump of one block, every field by name, with its seq and age
    (scores: each model's samples, scores and degraded flag). Attaches read-only:
    inspecting never disturbs trading."""
    names = ["control"] + ([BLOCKS[what]] if what in BLOCKS else [])
    mem = attach_or_fail(instance, writable=False, names=names)
    try:
        ctl = mem.control.records[0]
        coins = [ctl["coins"][i].decode() for i in range(int(ctl["n_coins"]))]
        name = coin or coins[0]
        if name not in coins:
            raise click.BadParameter(f"{name!r} is not configured (coins: {', '.join(coins)})",
                                     param_hint="--coin")
        idx = coins.index(name)
        while True:
            if what == "scores":
                d = scores_dict(mem, idx, name)
                click.echo(json.dumps(d) if as_json else scores_block.render(d))
            else:
                d = inspect_dict(mem, what, idx)
                d["coin"] = name
                click.echo(json.dumps(d) if as_json else _render(d, name))
            if not watch:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        mem.close()
