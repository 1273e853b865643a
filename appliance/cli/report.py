"""mmctl report: the live session's P&L by component so far, and a plot of it.

The figures are the risk watchdog's (``risk/attribution.py``, defined in
``measure/attribution.py``): read from the ``attrib`` segment (read-only, never
disturbs trading); ``--plot`` draws the component snapshots of the session from
``<state_dir>/attribution-journal.jsonl`` (give the instance's ``--config``).
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import click

from appliance.ipc import seqlock
from appliance.measure.attribution import COMPONENTS, ledger_summary
from appliance.risk.attribution import journal_path
from appliance.runtime.journal import read_journal

from .common import attach_or_fail, config_option, instance_option, json_option, load

NAMES = {"spread_usd": "spread", "adverse_selection_usd": "adverse selection",
         "inventory_usd": "inventory", "funding_usd": "funding", "fees_usd": "fees"}
SUMMED = (*COMPONENTS, "total_usd", "pnl_usd", "adjustment_usd", "residual_usd", "fills", "maker_fills",
          "volume_usd", "fees_paid_usd")


def report_dict(mem, coins: list[str]) -> dict:
    """Per coin (once its session started) and in total: the components, P&L, fills."""
    per = {}
    for c, coin in enumerate(coins):
        rec, _ = seqlock.snapshot(mem.attrib, c)
        if rec["started"]:
            per[coin] = ledger_summary(rec)
    total = {k: sum(d[k] for d in per.values()) for k in SUMMED}
    total["sums"] = bool(per) and all(d["sums"] for d in per.values())
    starts = [d["start_ts_ns"] for d in per.values()]
    return {"instance": mem.control.records[0]["instance"].decode(), "coins": per, "total": total,
            "session_s": (time.time_ns() - min(starts)) / 1e9 if starts else None}


def render(d: dict) -> str:
    if not d["coins"]:
        return f"instance {d['instance']}: no session yet (the risk watchdog has not read a position)"
    lines = [f"instance {d['instance']}: session of {d['session_s']:,.0f} s"]
    rows = list(d["coins"].items()) + ([("total", d["total"])] if len(d["coins"]) > 1 else [])
    for name, a in rows:
        parts = "  ".join(f"{NAMES[k]} ${a[k]:,.4f}" for k in COMPONENTS)
        since = ""
        if "start_ts_ns" in a:
            t = datetime.datetime.fromtimestamp(a["start_ts_ns"] / 1e9, datetime.UTC)
            since = f" since {t:%Y-%m-%d %H:%M:%S} UTC, AS over {a['horizon_s']:g} s"
        lines += [
            f"{name}{since}",
            f"  fills {a['fills']:,} (maker {a['maker_fills']:,})  volume ${a['volume_usd']:,.2f}  "
            f"fees paid ${a['fees_paid_usd']:,.4f}",
            f"  pnl ${a['pnl_usd']:,.4f} = {parts}"
            + (f"  adjustments ${a['adjustment_usd']:,.4f}" if a["adjustment_usd"] else ""),
            f"  sum {'holds' if a['sums'] else 'BROKEN'} (residual ${a['residual_usd']:+.6f})",
        ]
    return "\n".join(lines)


def session_series(path: Path) -> dict[str, list]:
    """The ``snap`` records of the last session in an attribution journal, summed over
    coins per snapshot: time (s from the session's start), each component, P&L."""
    recs, _ = read_journal(path)
    starts = [i for i, r in enumerate(recs) if r.get("k") == "session"]
    if not starts:
        return {}
    first = starts[-1]  # every coin's session record of one start come together
    while first > 0 and recs[first - 1].get("k") == "session":
        first -= 1
    t0 = min(r["start_ts_ns"] for r in recs[first:] if r.get("k") == "session")
    by_t: dict[int, dict] = {}
    for r in recs[first:]:
        if r.get("k") == "snap":
            acc = by_t.setdefault(r["t_ns"], dict.fromkeys((*COMPONENTS, "pnl_usd"), 0.0))
            for k in acc:
                acc[k] += r[k]
    ts = sorted(by_t)
    out = {"t_s": [(t - t0) / 1e9 for t in ts]}
    for k in (*COMPONENTS, "pnl_usd"):
        out[k] = [by_t[t][k] for t in ts]
    return out


def plot_series(series: dict[str, list], title: str, out: Path) -> Path:
    # matplotlib is slow to import: only `--plot` pays for it.
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for k in COMPONENTS:
        ax.plot(series["t_s"], series[k], lw=1.0, label=NAMES[k])
    ax.plot(series["t_s"], series["pnl_usd"], lw=1.6, color="black", label="P&L")
    ax.axhline(0.0, lw=0.5, color="grey")
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("cumulative USD")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


@click.command()
@instance_option
@config_option
@json_option
@click.option("--plot", "plot_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.png", help="Plot the cumulative components over the session to a PNG.")
def report(instance, config_path, as_json, plot_out):
    """The session so far: P&L by component (spread capture, adverse selection,
    inventory, funding, fees; they sum to the P&L), fills, volume, fees. Give the
    instance's --config for --plot (the journal is in its state directory)."""
    mem = attach_or_fail(instance, writable=False, names=["control", "attrib"])
    try:
        ctl = mem.control.records[0]
        d = report_dict(mem, [ctl["coins"][i].decode() for i in range(int(ctl["n_coins"]))])
    finally:
        mem.close()
    click.echo(json.dumps(d, indent=2) if as_json else render(d))
    if plot_out is not None:
        path = journal_path(load(config_path), instance)
        series = session_series(path)
        if not series.get("t_s"):
            raise click.ClickException(f"no snapshot of this session in {path} yet (one every few seconds)")
        plot_series(series, f"instance {instance}: session P&L by component", plot_out)
        click.echo(f"wrote {plot_out}", err=as_json)
