"""mmctl inspect: a live, consistent dump of one shared-memory block."""

import json
import sys
import time

import click

from appliance.ipc import seqlock
from appliance.risk.scoring import block as scores_block
from shm_layout.constants import EST_STATUS_NAMES, PULL_REASON_NAMES

from .common import attach_or_fail, instance_option, json_option, record_dict

BLOCKS = {"params": "params", "ladder": "ladder", "position": "position", "scores": "scores"}


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


# Field-name prefixes -> the estimator (or part of a block) they belong to, in order.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("book", ("mid_px", "microprice_px", "weighted_mid", "best_", "spread_bps", "book_", "tick_",
              "bim_", "sweep_")),
    ("volatility", ("sigma_", "vol_", "excess_kurtosis", "jump", "last_jump", "sv_")),
    ("regime", ("volatility_regime", "spread_regime", "regime_", "gamma_multiplier",
                "spread_multiplier")),
    ("volume clock", ("volume_rate", "volclock_")),
    ("kappa", ("kappa_",)),
    ("microprice", ("microprice_",)),
    ("flow", ("trade_", "flow_")),
    ("hawkes", ("hawkes_",)),
    ("funding", ("funding_", "mark_px", "oracle_px", "open_interest")),
    ("spread", ("fair_spread", "spread_")),
    ("cascade", ("cascade_", "tail_risk")),
    ("cross-asset", ("corr_", "hedge_", "basis_", "lead_")),
    ("adverse selection", ("adverse_", "as_", "n_fills_marked", "markout_", "predicted_alpha",
                           "as0_")),
    ("toxicity", ("toxicity_",)),
    ("queue", ("queue_",)),
    ("drift", ("drift_",)),
)


def _code_name(field: str, value):
    """A status code with its name: `vol_status = valid (1)`."""
    if field.endswith("_status") and isinstance(value, int) and 0 <= value < len(EST_STATUS_NAMES):
        return f"{EST_STATUS_NAMES[value]} ({value})"
    return value


def _group_of(field: str) -> str:
    if field.endswith("_status"):
        return "status"
    for group, prefixes in GROUPS:
        if field.startswith(prefixes):
            return group
    return "header"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list) and v and isinstance(v[0], float):
        return "[" + ", ".join(f"{x:.4g}" for x in v) + "]"
    return str(v)


def _render(d: dict, coin: str) -> str:
    head = f"{d['block']}" + (f" [{coin}] seq {d['seq']} age {d['age_ms']} ms" if "seq" in d else "")
    if "account_age_ms" in d:
        head += f", account age {d['account_age_ms']} ms"
    lines = [head]
    if d["block"] == "control":
        for k, v in d["fields"].items():
            if k == "procs":
                for p in v:
                    lines.append(f"  procs: {json.dumps({x: y for x, y in p.items() if x != 'lat_hist'})}")
                continue
            lines.append(f"  {k} = {_fmt(v)}")
        return "\n".join(lines)
    grouped: dict[str, list[str]] = {}
    for k, v in d["fields"].items():
        grouped.setdefault(_group_of(k), []).append(f"{k} = {_fmt(_code_name(k, v))}")
    order = ["header", "status"] + [g for g, _ in GROUPS]
    for g in sorted(grouped, key=lambda g: order.index(g) if g in order else len(order)):
        lines.append(f"[{g}]")
        lines.extend(f"  {item}" for item in grouped[g])
    return "\n".join(lines)


CLEAR_HOME = "\x1b[H\x1b[2J"  # redraw a --watch frame in place on a terminal


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
        redraw = watch and not as_json and sys.stdout.isatty()
        while True:
            if what == "scores":
                d = scores_dict(mem, idx, name)
                text = json.dumps(d) if as_json else scores_block.render(d)
            else:
                d = inspect_dict(mem, what, idx)
                d["coin"] = name
                text = json.dumps(d) if as_json else _render(d, name)
            if redraw:
                text = CLEAR_HOME + time.strftime("%H:%M:%S  ") + text
            click.echo(text)
            if not watch:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        mem.close()
