"""mmctl status: processes, heartbeats, kill state, latency. Reads the control block
only (no seqlock, no numba), so it answers at once on a loaded box."""

import json
import time

import click

from appliance.runtime import latency_hist
from appliance.runtime.control import kill_state, pid_alive, proc_status
from appliance.runtime.proc_memory import process_memory
from shm_layout.constants import (
    APPLIANCE_STATE_NAMES,
    DMS_STATE_NAMES,
    LRC_STATE_NAMES,
    N_CHILDREN,
    PROC_QUOTE,
    PROC_SUPERVISOR,
    RISK_ACTION_NAMES,
)

from .common import attach_or_fail, instance_option, json_option


def status_dict(mem) -> dict:
    ctl = mem.control.records[0]
    now = time.monotonic_ns()
    q50, q99 = latency_hist.quantiles(ctl["procs"][PROC_QUOTE]["lat_hist"])
    state = int(ctl["state"])
    name = APPLIANCE_STATE_NAMES[state] if state < len(APPLIANCE_STATE_NAMES) else "?"
    sup = proc_status(ctl, PROC_SUPERVISOR, now)
    sup["pid"] = int(ctl["supervisor_pid"])
    sup["alive"] = pid_alive(sup["pid"])  # the pid, not the block: a kill -9 writes nothing
    if not sup["alive"] and name in ("starting", "running", "stopping"):
        name = "supervisor dead"
    venue_pid = int(ctl["venue_pid"])
    procs = [proc_status(ctl, p, now) for p in range(N_CHILDREN)]
    for p in procs:
        p["memory"] = process_memory(p["pid"]) if p["alive"] else None
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
        "processes": procs,
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
                 f"{'hb_age_ms':>10}{'restarts':>9}{'events':>11}{'errors':>7}{'pss_MiB':>9}{'uss_MiB':>9}"
                 f"{'compile_s':>10}")
    for p in st["processes"]:
        age = "-" if p["heartbeat_age_ms"] is None else f"{p['heartbeat_age_ms']:.1f}"
        m = p.get("memory")
        mem = f"{m['pss_mib']:>9.1f}{m['uss_mib']:>9.1f}" if m else f"{'-':>9}{'-':>9}"
        lines.append(f"{p['name']:<10}{p['pid']:>8}  {','.join(map(str, p['cpus'])):<8}"
                     f"{'yes' if p['alive'] else 'NO':<7}{p['state']:<11}{age:>10}"
                     f"{p['restarts']:>9}{p['events']:>11}{p['errors']:>7}{mem}"
                     f"{p['compile_s']:>9.1f}{'*' if p['compiling'] else ' '}")
    if any(p["compiling"] for p in st["processes"]):
        lines.append("* compiling now (numba, a cold cache: minutes on two cores; mmctl warm does "
                     "it ahead)")
    pss = [p["memory"]["pss_mib"] for p in st["processes"] if p.get("memory")]
    if pss:
        lines.append(f"memory of the {len(pss)} processes: {sum(pss):.1f} MiB PSS (shared pages split "
                     "among the processes that map them)")
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
