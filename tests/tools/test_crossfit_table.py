"""tools/crossfit_table.render: one row per capture and model, each column from the run
the fixed scheme names (out of sample: USD-M BTC's overlay, USD-M ETH's for USD-M BTC)."""

from tools.as_rank_features import CAPTURES
from tools.crossfit_table import _oos_source, render


def _cal_run(v: float) -> dict:
    e = {"n": 100, "ratio": v, "spearman": v / 10, "ci95": [v / 10 - 0.1, v / 10 + 0.1]}
    parts = ("default_train", "fitted_train", "default_test", "fitted_test")
    return {"rows": {}, "as": dict.fromkeys(parts, e)}


def _bt(pnl: float) -> dict:
    s = {"n": 0, "ratio": None, "spearman": None, "skill": None, "horizon_s": 0.5, "filled": 1,
         "missed": 9, "hit_rate": None, "zero_realized_share": None, "ir": None}
    return {"events": 1, "fills": 0, "pnl": pnl,
            "attribution": {"total_usd": pnl, "pnl_usd": pnl},
            "fill_prob": s, "fill_prob_short": s, "fill_prob_hazard": {"skill": None, "ratio": None},
            "as_own_10s": s, "toxicity": s, "drift": s, "microprice": s}


def test_render_when_results_stored_then_out_column_reads_the_scheme_s_run():
    names = list(CAPTURES)
    cal = {f"{n}->usdm_btc": _cal_run(1.0 + i) for i, n in enumerate(names) if n != "usdm_btc"}
    cal.update({f"usdm_btc->{n}": _cal_run(10.0 + i) for i, n in enumerate(names) if n != "usdm_btc"})
    bts = {f"{n}/{t}": _bt(0.5) for n in names for t in ("default", "in", "out")}
    table = render({"calibrate": cal, "backtest": bts}).splitlines()
    assert len(table) == 2 + 11 * len(names)
    as_rows = {r.split(" | ")[0][2:].split(" ")[0]: r for r in table if "AS market fills" in r}
    # USD-M ETH out of sample is the USD-M BTC run's test part (ratio 10 + its index)
    assert _oos_source("usdm_eth") == "usdm_btc" and "11.00x" in as_rows["usdm_eth"].split(" | ")[-1]
    assert _oos_source("usdm_btc") == "usdm_eth" and "2.00x" in as_rows["usdm_btc"].split(" | ")[-1]
