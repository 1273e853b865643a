"""The trading-quality harness's table builder and goal counts on a tiny input."""

import pytest

from tools import scenario_quality as sq
from tools import trading_quality as tq


def _s(pnl, fills, net, two, req, vol):
    return {"pnl": pnl, "fills": fills, "taker_fills": 0, "net_capture_bps": net, "fees": 0.01,
            "volume": vol, "two_sided_share": two, "requests": req, "max_abs_inventory_frac": 0.1}


ROWS = {
    "usdm_btc": {"train": "usdm_eth", "unified": _s(0.5, 12, 0.8, 0.9, 100, 500.0),
                 "unified_rebate": _s(0.7, 12, 1.1, 0.9, 100, 500.0),
                 "legacy": _s(-0.2, 5, -0.1, 0.95, 300, 50.0),
                 "hft": _s(-0.1, 20, None, None, 700, 2000.0),
                 "hft_rebate": _s(0.1, 20, None, None, 700, 2000.0)},
    "spot_eth": {"train": "usdm_btc", "unified": _s(-0.3, 11, -0.5, 0.5, 900, 100.0),
                 "unified_rebate": _s(-0.1, 11, -0.2, 0.5, 900, 100.0),
                 "legacy": _s(0.0, 0, None, 0.99, 50, 0.0), "hft": None, "hft_rebate": None},
}


def test_render_table_when_two_captures_then_one_line_per_strategy_and_na_for_missing():
    md = tq.render_table(ROWS)
    lines = md.splitlines()
    assert len(lines) == 2 + 2 * 3
    assert ("| usdm_btc (usdm_eth) | unified | +0.500 | 12 | +0.80 | 0.010 | 90% | 100 / $500 "
            "| +0.700 |") in lines
    assert "| spot_eth (usdm_btc) | hftbacktest GLFT | n/a | | | | | | |" in lines
    assert ("| usdm_btc (usdm_eth) | hftbacktest GLFT | -0.100 | 20 | - | 0.010 | - | 700 / $2,000 "
            "| +0.100 |") in lines


def test_goals_when_one_capture_meets_them_then_counts_say_so():
    g = tq.goals(ROWS)
    assert g["P&L >= legacy and >= hftbacktest (where run)"].startswith("1/2")
    assert g["net capture >= 0 where >= 10 fills"].startswith("1/2")
    assert g["both sides quoted >= 80 % of unpulled time"].startswith("1/2")
    assert g["P&L > 0 at maker -0.3 bps"].startswith("1/2")
    assert g["requests <= USDC traded"].startswith("1/2")


def test_summarize_when_report_then_net_capture_is_spread_plus_fees_over_volume():
    rep = {"attribution": {"spread_usd": 0.30, "fees_usd": -0.15}, "volume": 1000.0, "pnl": 0.1,
           "fills": 3, "taker_fills": 0, "fees": 0.15, "two_sided_share": 0.7, "requests": 9,
           "max_abs_inventory_frac": 0.2}
    s = tq.summarize(rep)
    assert s["net_capture_bps"] == pytest.approx(1.5)
    assert s["requests"] == 9 and s["two_sided_share"] == 0.7


def test_parse_overrides_when_toml_values_then_typed_and_bad_items_raise():
    assert tq.parse_overrides(["edge_vs_fair=false", "gamma=0.5"]) == {"edge_vs_fair": False, "gamma": 0.5}
    with pytest.raises(ValueError):
        tq.parse_overrides(["edge_vs_fair"])


def test_render_scenario_when_two_seeds_then_medians_and_goal_counts():
    def r(pnl, lo, sh):
        return {"pnl": pnl, "fills": 10, "max_long_frac": lo, "max_short_frac": sh,
                "markout_10s_adverse_fills": 2, "markout_10s_benign_fills": 8,
                "quoted_while_should_pull_s": 0.5}
    runs = [{"seed": 1, "unified": r(-1.0, 0.5, 0.2), "legacy": r(-4.0, 0.9, 0.1)},
            {"seed": 2, "unified": r(-3.0, 0.3, 0.7), "legacy": r(-4.0, 0.9, 0.1)}]
    md = sq.render_scenario("trend_selloff", runs)
    assert "| unified | -2.00 | 10 | 40 | 45 | 2 / 8 | 0.50 |" in md
    assert "both sides: 1/2" in md and "half of legacy's: 1/2" in md
    assert sq._seeds("1-3") == [1, 2, 3] and sq._seeds("4,6") == [4, 6]
    seeds = sq.render_seeds(runs)  # every seed, a row each
    assert "| 1 | -1.00, 10, 50 / 20 %, 2 / 8 | -4.00, 10, 90 / 10 %, 2 / 8 |" in seeds
    assert "| 2 | -3.00, 10, 30 / 70 %" in seeds


def test_render_scenario_when_cascade_unified_only_then_worst_minute_goal_counted():
    def r(worst, pulled_s):
        return {"pnl": 0.0, "fills": 1, "max_long_frac": 0.0, "max_short_frac": 0.0,
                "markout_10s_adverse_fills": 0, "markout_10s_benign_fills": 1,
                "quoted_while_should_pull_s": pulled_s, "worst_minute_fills": worst}
    runs = [{"seed": 1, "unified": r(0, 0.2)}, {"seed": 2, "unified": r(1, 0.2)},
            {"seed": 3, "unified": r(0, 3.0)}]
    md = sq.render_scenario("liquidation_cascade", runs)
    assert "should pull: 1/3" in md and "legacy" not in md


def test_render_scenario_when_toxic_with_no_as_then_adverse_goal_counted():
    def r(adv, ben):
        return {"pnl": 0.0, "fills": adv + ben, "max_long_frac": 0.0, "max_short_frac": 0.0,
                "markout_10s_adverse_fills": adv, "markout_10s_benign_fills": ben,
                "quoted_while_should_pull_s": 0.0}
    runs = [{"seed": 1, "unified": r(6, 95), "no_as": r(10, 100)},   # met
            {"seed": 2, "unified": r(8, 100), "no_as": r(10, 100)}]  # only 20 % fewer
    assert "benign: 1/2" in sq.render_scenario("toxic_burst", runs)


def test_render_scenario_when_requests_recorded_then_median_and_count_against_volume():
    def r(req, vol):
        return {"pnl": 0.0, "fills": 1, "max_long_frac": 0.0, "max_short_frac": 0.0,
                "markout_10s_adverse_fills": 0, "markout_10s_benign_fills": 1,
                "quoted_while_should_pull_s": 0.0, "requests": req, "volume": vol}
    runs = [{"seed": 1, "unified": r(500, 1000.0)}, {"seed": 2, "unified": r(900, 800.0)},
            {"seed": 3, "unified": r(700, 2000.0)}]
    assert "| 700 / $1,000 | 2/3 |" in sq.render_scenario("liquidation_cascade", runs)


def test_with_overrides_when_section_prefixed_then_that_section_changes():
    from appliance.config import load_config

    cfg = tq.with_overrides(load_config(), {"gamma": 0.5, "risk.max_position_usd": 5000.0,
                                            "gateway.keep_tolerance_bps": 0.0})
    assert cfg.quote.gamma == 0.5 and cfg.risk.max_position_usd == 5000.0
    assert cfg.gateway.keep_tolerance_bps == 0.0
    nested = tq.with_overrides(cfg, {"estimator.vol.kurtosis_as_k": 0.0})
    assert nested.estimator.vol.kurtosis_as_k == 0.0 and nested.quote.gamma == 0.5


def test_run_scenario_when_overlay_then_unified_reads_it_and_legacy_does_not(tmp_path):
    # Arrange: an overlay that switches the drift's observations off
    ov = tmp_path / "drift_off.toml"
    ov.write_text("[estimator.drift]\nalpha_flow = 0.0\nalpha_fill = 0.0\nalpha_hawkes = 0.0\n"
                  "alpha_fill_size = 0.0\nalpha_basis = 0.0\nalpha_lead = 0.0\nalpha_funding = 0.0\n"
                  "[estimator.book]\nalpha_bim = 0.0\nalpha_dbim = 0.0\nalpha_bpg = 0.0\nalpha_sweep = 0.0\n")
    # Act
    plain = sq.run_scenario("trend_selloff", [1], {}, ("unified", "legacy"))
    over = sq.run_scenario("trend_selloff", [1], {}, ("unified", "legacy"), overlay=ov)
    # Assert
    assert over[0]["legacy"] == plain[0]["legacy"]
    assert over[0]["unified"] != plain[0]["unified"]


def test_render_reasons_when_runs_counted_then_one_line_each_with_total_and_sums_over_seeds():
    a = {"place_first_of_side": 2, "modify_move": 5}
    md = tq.render_reasons([("x unified", a), ("y unified", None)])
    assert "| x unified | 2 | 5 | 7 |" in md and "y unified" not in md
    runs = [{"unified": {"requests_by_reason": a}}, {"unified": {"requests_by_reason": a}}]
    assert sq.summed_reasons(runs, "unified") == {"place_first_of_side": 4, "modify_move": 10}
    assert sq.summed_reasons([{"unified": {}}], "unified") is None
    assert tq.render_reasons([("z", None)]) == ""


def test_render_phases_when_split_recorded_then_sums_over_seeds_per_preset():
    def run(seed, lead):
        ph = {"lead": [lead, lead], "move": [0, 5], "after_10s": [1, 2], "after_10_30s": [0, 0],
              "other": [0, 9]}
        return {"seed": seed, "unified": {"markout_10s_by_episode_phase": ph},
                "no_as": {"markout_10s_by_episode_phase": {k: [2 * a, 2 * b] for k, (a, b) in ph.items()}}}

    md = sq.render_phases([run(1, 3), run(2, 4)])
    assert "| preset | lead | move | after_10s | after_10_30s | other |" in md
    assert "| unified | 7 / 7 | 0 / 10 | 2 / 4 | 0 / 0 | 0 / 18 |" in md
    assert "| no_as | 14 / 14 |" in md
    assert sq.render_phases([{"seed": 1, "unified": {"pnl": 0.0}}]) == ""  # older runs
