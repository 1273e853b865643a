"""The report's ``scores`` block as a compact table (``report.render``): one line per
model, its horizon, the pairs scored, its key metrics, and DEGRADED when flagged."""

from __future__ import annotations


def _f(x: float | None, fmt: str = "{:.3f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def _prob(e: dict) -> str:
    s = (f"brier {_f(e['brier'], '{:.4f}')} clim {_f(e['uncertainty'], '{:.4f}')} "
         f"skill {_f(e['skill'], '{:+.3f}')} rel {_f(e['reliability'], '{:.4f}')} "
         f"res {_f(e['resolution'], '{:.4f}')} pred {_f(e['mean_forecast'])} "
         f"obs {_f(e['base_rate'])}")
    own = e.get("estimator_own") or {}
    if own.get("brier_ewma") is not None:
        s += f" | own brier_ewma {own['brier_ewma']:.4f} (n {own['n']})"
    return s


def _forecast(e: dict) -> str:
    return (f"pred {_f(e['mean_forecast'], '{:+.3f}')} real {_f(e['mean_realized'], '{:+.3f}')} "
            f"ratio {_f(e['ratio'], '{:.2f}')} slope {_f(e['slope'], '{:+.3f}')} "
            f"spearman {_f(e['spearman'], '{:+.3f}')} IR {_f(e['ir'], '{:+.3f}')} "
            f"hit {_f(e['hit_rate'], '{:.2f}')} (no move {_f(e.get('zero_realized_share'), '{:.0%}')})")


def _line(name: str, e: dict, body: str) -> str:
    h = e.get("horizon_s")
    label = f"{name} {h:g}s" if h is not None else name
    flag = "  DEGRADED" if e.get("degraded") else ""
    return f"  {label:<22} n {e['n']:>7,}  {body}{flag}"


def render_scores(scores: dict) -> str:
    """The block as text, headed ``scores``."""
    m = scores["models"]
    lines = ["scores     model (horizon), pairs scored, metrics (bps for forecasts)"]
    fp = m["fill_prob"]
    lines.append(_line("fill_prob", fp, _prob(fp)) + (
        f"\n  {'':<22} orders {fp['orders']:,}: filled {fp['filled']:,}, missed "
        f"{fp['missed']:,}, censored {fp['censored']:,}"))
    sh = fp.get("short") or {}
    if sh.get("n"):
        lines.append(f"  {'':<22} at {sh['horizon_s']:.3g} s (median time at risk): {_prob(sh)}; "
                     f"filled {sh['filled']:,}, missed {sh['missed']:,}, censored {sh['censored']:,}")
    hz = fp.get("hazard") or {}
    if hz.get("n"):
        lines.append(f"  {'':<22} every order at risk ({hz['n']:,}, {hz['exposure_s']:,.0f} s): "
                     f"fills observed {hz['observed']:,} vs expected {hz['expected']:,.1f}, "
                     f"O/E {_f(hz['ratio'], '{:.2f}')}")
    for e in m["adverse_selection"]["by_horizon"].values():
        lines.append(_line("adverse_selection", e, _forecast(e)))
    tox = m["toxicity"]
    lines.append(_line("toxicity", tox, _prob(tox)))
    for name in ("drift", "microprice", "lead_lag"):
        e = m[name]
        lines.append(_line(name, e, e["note"] if e["n"] == 0 and e.get("note") else _forecast(e)))
    if scores["model_degraded"]:
        lines.append(f"  model_degraded: {', '.join(scores['model_degraded'])}")
    return "\n".join(lines)
