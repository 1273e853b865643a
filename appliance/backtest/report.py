"""The backtest report: figures from the fills, markouts and final state.

Markouts (bps, positive = good for us): ``side * (mid_later - fill_px) / fill_px``,
``mid_later`` the first mid at least the horizon after the fill (simulated time).
Fills too close to the end of the data for a horizon are left out of its mean.
Spread capture (bps): notional-weighted ``side * (mid_at_fill - fill_px) / mid``,
gross of fees; ``spread_capture_net_bps`` subtracts the fees paid per notional.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from appliance.gateway import pacing_kernel as pk
from appliance.gateway import request_reasons as rr

from . import pnl_attribution, proof_figures
from .score_table import render_scores

# In-loop markout horizons (shm_layout N_MARKOUTS columns); report keys "0.5s", "1s", ...
MARKOUT_HORIZONS_S = (0.5, 1, 2, 5, 10, 30)
MARKOUT_10S_COL = MARKOUT_HORIZONS_S.index(10)


def fills_digest(fills: np.ndarray) -> str:
    """sha256 of every named field of every fill record (padding left out): equal
    digests, equal fills."""
    h = hashlib.sha256()
    for name in fills.dtype.names:
        if not name.startswith("_"):
            h.update(name.encode())
            h.update(np.ascontiguousarray(fills[name]).tobytes())
    return h.hexdigest()


def _finite_or_none(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def markout_means(markouts: np.ndarray) -> tuple[dict[str, float | None], dict[str, int]]:
    means: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for h, secs in enumerate(MARKOUT_HORIZONS_S):
        col = markouts[:, h] if markouts.shape[0] else np.zeros(0)
        ok = col[np.isfinite(col)]
        key = f"{secs:g}s"
        counts[key] = int(ok.size)
        means[key] = _finite_or_none(ok.mean()) if ok.size else None
    return means, counts


def fill_depth_bps(fills: np.ndarray) -> np.ndarray:
    """Each fill's edge against the mid before it, bps (> 0: bought below / sold above)."""
    return fills["side"] * (fills["mid_px"] - fills["px"]) / fills["mid_px"] * 1e4


def spread_capture_bps(fills: np.ndarray) -> tuple[float | None, float | None]:
    """(gross, net of fees), notional-weighted; None without fills."""
    if fills.shape[0] == 0:
        return None, None
    notional = fills["px"] * fills["sz"]
    total = float(notional.sum())
    if not total > 0:
        return None, None
    edge = fill_depth_bps(fills)
    gross = float((edge * notional).sum() / total)
    net = gross - float(fills["fee_usd"].sum()) / total * 1e4
    return _finite_or_none(gross), _finite_or_none(net)


def two_sided_share(samples: np.ndarray | None, max_half_spread_bps: float) -> float | None:
    """Share of the sampled time not pulled (``should_pull`` 0, a mid known) in which
    we rested a bid and an ask, each within ``max_half_spread_bps`` of the mid: is it
    still making markets (issue 16)? None without such samples."""
    if samples is None or samples.shape[0] == 0:
        return None
    mid = samples["mid_px"]
    live = np.isfinite(mid) & (samples["should_pull"] == 0)
    if not live.any():
        return None
    with np.errstate(invalid="ignore"):
        bid_ok = (mid - samples["our_bid_px"]) / mid * 1e4 <= max_half_spread_bps
        ask_ok = (samples["our_ask_px"] - mid) / mid * 1e4 <= max_half_spread_bps
    return float((live & bid_ok & ask_ok).sum() / live.sum())


def rank_terciles(x: np.ndarray) -> np.ndarray:
    """0, 1, 2 by rank of ``x`` (three equal groups, ties in input order)."""
    bins = np.empty(x.shape[0], np.int64)
    bins[np.argsort(x, kind="stable")] = np.arange(x.shape[0]) * 3 // max(x.shape[0], 1)
    return bins


def prediction_scores(fills: np.ndarray, markouts: np.ndarray) -> dict:
    """The ladder's predictions carried onto our fills against what followed: mean
    predicted adverse selection vs the realized 10 s one (depth - markout, bps), mean
    predicted fill probability, and the 10 s AS mean per predicted-AS tercile (a model
    that ranks well shows it rising)."""
    has = fills["level_id"] != 0 if fills.shape[0] else np.zeros(0, bool)
    out: dict = {"fills_with_prediction": int(has.sum()), "pred_as_bps_mean": None,
                 "realized_as_10s_bps_mean": None, "pred_fill_prob_mean": None,
                 "realized_as_10s_by_pred_tercile": None}
    if not has.any():
        return out
    f, mk = fills[has], markouts[has, MARKOUT_10S_COL]
    depth = fill_depth_bps(f)
    ok = np.isfinite(mk)
    realized = depth[ok] - mk[ok]
    out["pred_as_bps_mean"] = float(f["pred_as_bps"].mean())
    out["pred_fill_prob_mean"] = float(f["pred_fill_prob"].mean())
    if ok.any():
        out["realized_as_10s_bps_mean"] = float(realized.mean())
        pred = f["pred_as_bps"][ok]
        if realized.size >= 30:
            bins = rank_terciles(pred)
            out["realized_as_10s_by_pred_tercile"] = [
                _finite_or_none(realized[bins == b].mean()) for b in range(3)]
    return out


def requests_by_reason(pacing_state: np.ndarray | None) -> dict[str, int] | None:
    """The requests sent, by ``request_reasons`` reason (None: not counted)."""
    if pacing_state is None:
        return None
    c = pacing_state[pk.P_REASONS:pk.P_REASONS + rr.N_REASONS]
    return {name: int(c[k]) for k, name in enumerate(rr.REASON_NAMES)}


def build_report(*, st, pos, fills: np.ndarray, markouts: np.ndarray, max_position_sz: float,
                 max_position_usd: float,
                 wall_s: float, load_s: float, compile_s: float, source: str, seed: int,
                 coin: str, preset: str, config_hash: str, source_stats: dict,
                 samples: np.ndarray | None = None, markout_adverse_bps: float = 4.0,
                 bid_pullback_bps: float = 8.0, origin_ns: int = 0,
                 windows: dict[str, tuple[float, float]] | None = None,
                 episodes: list[tuple[float, float, float]] | None = None,
                 attribution_horizon_s: float = 10.0,
                 max_half_spread_bps: float = 200.0,
                 pacing_state: np.ndarray | None = None) -> dict:
    """The report dict (JSON-ready): ``st`` a BT_STATE record, ``pos`` a POSITION_STATE.
    Proof figures (issue 6): ``proof_figures``; ``origin_ns`` is the stream's start
    (default: the first event), ``windows`` the scenario's named windows, ``episodes`` its
    informed episodes (start, move start, move end s)."""
    events = int(st["n_events"])
    first, now = int(st["first_ns"]), int(st["now_ns"])
    markout, markout_n = markout_means(markouts)
    gross, net = spread_capture_bps(fills)
    maker = int((fills["is_maker"] == 1).sum())
    rep = {
        "source": source,
        "coin": coin,
        "seed": int(seed),
        "preset": preset,
        "config_hash": config_hash,
        "events": events,
        "seconds_simulated": (now - first) / 1e9 if first else 0.0,
        "wall_s": wall_s,
        "events_per_s": events / wall_s if wall_s > 0 else None,
        "load_s": load_s,
        "compile_s": compile_s,
        "fills": int(fills.shape[0]),
        "maker_fills": maker,
        "taker_fills": int(fills.shape[0]) - maker,
        "volume": float(pos["volume_usd"]),
        "fees": float(pos["fees_usd"]),
        "pnl": _finite_or_none(pos["total_pnl_usd"]),
        "realized_pnl": float(pos["realized_pnl_usd"]),
        "final_position_sz": float(pos["position_sz"]),
        "max_abs_inventory_frac": float(st["max_abs_frac"]),
        "spread_capture_bps": gross,
        "spread_capture_net_bps": net,
        "markout_bps": markout,
        "markout_fills": markout_n,
        "requotes": int(st["n_requotes"]),
        "orders_placed": int(st["n_orders_placed"]),
        "orders_cancelled": int(st["n_orders_cancelled"]),
        "orders_rejected": int(st["n_orders_rejected"]),
        "orders_kept": int(st["n_orders_kept"]),
        "orders_modified": int(st["n_orders_modified"]),
        "actions_deferred": int(st["n_actions_deferred"]),
        "targets_dropped_small": int(st["n_targets_dropped"]),
        "exchange_requests": int(st["n_exchange_requests"]),
        "ip_weight_used": int(st["ip_weight_used"]),
        "address_requests_used": int(st["address_requests_used"]),
        # every order request the venue counts against the address budget (issue 16)
        "requests": int(st["n_orders_placed"]) + int(st["n_orders_modified"])
        + int(st["n_orders_cancelled"]),
        # ... and why each was sent (``gateway.request_reasons``; the pacing state's counters)
        "requests_by_reason": requests_by_reason(pacing_state),
        "two_sided_share": two_sided_share(samples, max_half_spread_bps),
        "orders_placed_per_fill": (int(st["n_orders_placed"]) / int(fills.shape[0])
                                   if fills.shape[0] else None),
        "digest": fills_digest(fills),
        "source_stats": source_stats,
        "predictions": prediction_scores(fills, markouts),
        # P&L by component; raises AttributionMismatch unless it sums to pnl (the invariant)
        "attribution": pnl_attribution.block(fills=fills, markouts=markouts,
                                             markout_horizons_s=MARKOUT_HORIZONS_S, samples=samples,
                                             pos=pos, horizon_s=attribution_horizon_s),
    }
    rep.update(_proof_keys(st, fills, markouts, samples, (max_position_sz, max_position_usd),
                           markout_adverse_bps,
                           bid_pullback_bps, origin_ns or first, windows))
    if episodes:
        rep["markout_10s_by_episode_phase"] = proof_figures.markout_split_by_phase(
            fills, markouts, MARKOUT_10S_COL, markout_adverse_bps, origin_ns or first, episodes)
    return rep


def _proof_keys(st, fills, markouts, samples, limit, adverse_bps, pullback_bps,
                origin_ns, windows) -> dict:
    adverse, benign = proof_figures.markout_split(markouts, MARKOUT_10S_COL, adverse_bps)
    from_s = proof_figures.band_start_s(windows)
    if samples is not None and samples.shape[0]:
        delay, t_band, never = proof_figures.bid_pull_delay(samples, origin_ns, from_s,
                                                            pullback_bps)
    else:
        delay, t_band, never = None, None, False
    return {
        "markout_10s_threshold_bps": float(adverse_bps),
        "markout_10s_adverse_fills": adverse,
        "markout_10s_benign_fills": benign,
        "bid_pull_delay_s": delay,
        "bid_pull_band_t_s": t_band,
        "bid_pull_from_s": from_s,
        "bid_pull_never": bool(never),
        "bid_pullback_bps": float(pullback_bps),
        "max_long_frac": float(st["max_long_frac"]),
        "max_short_frac": float(st["max_short_frac"]),
        "legacy_gate_disagreements": int(st["n_gate_disagree"]),
        "should_pull_s": int(st["pull_ns"]) / 1e9,
        "quoted_while_should_pull_s": int(st["quoted_pull_ns"]) / 1e9,
        "requotes_while_should_pull": int(st["n_requotes_pull"]),
        "fills_while_should_pull": int(st["n_fills_pull"]),
        "windows": proof_figures.window_figures(
            fills, samples if samples is not None else np.zeros(0, fills.dtype), origin_ns,
            windows, limit) if samples is not None else {},
    }


def render(report: dict) -> str:
    """A human-readable summary of a report."""
    def f(x, fmt="{:,.2f}"):
        return "n/a" if x is None else fmt.format(x)

    mk = "  ".join(f"{k} {f(v)}" for k, v in report["markout_bps"].items())
    lines = [
        f"source     {report['source']}  coin {report['coin']}  seed {report['seed']}  "
        f"preset {report['preset']}",
        f"events     {report['events']:,} over {report['seconds_simulated']:,.1f} s simulated; "
        f"loop {report['wall_s']:.3f} s = {f(report['events_per_s'], '{:,.0f}')} events/s "
        f"(parse {report['load_s']:.2f} s, compile {report['compile_s']:.2f} s)",
        f"fills      {report['fills']:,} (maker {report['maker_fills']:,}, taker "
        f"{report['taker_fills']:,}); orders placed {report['orders_placed']:,}, "
        f"modified {report['orders_modified']:,}, cancelled {report['orders_cancelled']:,}, "
        f"rejected {report['orders_rejected']:,}, deferred by pacing {report['actions_deferred']:,}",
        f"requests   {report['requests']:,} (orders + modifies + cancels) for "
        f"${report['volume']:,.2f} traded; both sides quoted "
        f"{f(report['two_sided_share'], '{:.0%}')} of the unpulled time",
        f"budget     {report['exchange_requests']:,} /exchange requests, IP weight "
        f"{report['ip_weight_used']:,}, address requests {report['address_requests_used']:,}",
        f"volume     ${report['volume']:,.2f}  fees ${report['fees']:,.4f}  "
        f"pnl ${f(report['pnl'], '{:,.4f}')}",
        f"inventory  max |q| {report['max_abs_inventory_frac']:.1%} of max position; "
        f"final {report['final_position_sz']:g}",
        f"capture    {f(report['spread_capture_bps'])} bps gross, "
        f"{f(report['spread_capture_net_bps'])} bps net of fees",
        f"markout    {mk} (bps, + = good for us)",
        pnl_attribution.render_line(report["attribution"]),
        f"digest     {report['digest']}",
    ]
    lines[1:1] = render_source(report)
    if report.get("scores"):
        lines.append(render_scores(report["scores"]))
    return "\n".join(lines)


def render_source(report: dict) -> list[str]:
    """What the source read and the instrument, when the report has them."""
    out = []
    s = report.get("source_stats") or {}
    if "lines" in s:
        line = (f"read       {s['lines']:,} lines: {s['events']:,} events, {s['malformed']:,} "
                f"malformed, {s['skipped']:,} skipped, {s['gaps']:,} gaps")
        if s.get("book_from_diffs"):
            line += (f"; book built from diffs (no snapshot), {s['warmup_skipped']:,} "
                     "warm-up diffs")
        out.append(line)
        for reason in s.get("malformed_reasons", [])[:3]:
            out.append(f"           malformed: {reason}")
    facts = (report.get("instrument") or {}).get("facts")
    if facts:
        line = (f"instrument {facts['market']} {facts['symbol']}: "
                f"{'inverse' if facts['inverse'] else 'linear'}, sizes {facts['size_unit']}")
        pnl_coin = report["instrument"].get("pnl_coin")
        if pnl_coin is not None:
            line += f"; pnl in coin {pnl_coin:.8f} (inverse, at the final mark)"
        out.append(line)
    return out
