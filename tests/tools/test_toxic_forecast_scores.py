"""tools/toxic_forecast_scores: the AUC's orientation, the truth split, and one seed's
scores on a short toxic_burst_v2 market (the counts add up, the lead shows)."""

import numpy as np

from tools.toxic_forecast_scores import auc, informed_mask, market_scores


def test_auc_when_feature_separates_then_one_and_when_reversed_then_zero():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([False, False, True, True])
    assert auc(x, y) == 1.0
    assert auc(-x, y) == 0.0
    assert np.isnan(auc(x, np.zeros(4, bool)))


def test_informed_mask_when_aggressor_on_episode_side_inside_window_then_true_only_there():
    bursts = np.array([(10.0, 20.0, 1)], dtype=[("start_s", "f8"), ("flow_end_s", "f8"), ("side", "i1")])
    t = np.array([5.0, 12.0, 12.0, 25.0])
    aggr = np.array([1, 1, -1, 1])
    assert informed_mask(t, aggr, bursts).tolist() == [False, True, False, False]


def test_market_scores_when_short_v2_market_then_counts_consistent_and_features_scored():
    row = market_scores("toxic_burst_v2", 101, 300.0)
    assert row["fills"] > 0
    assert 0 <= row["adverse_informed"] <= row["adverse"] <= row["fills"]
    assert 0 < row["informed"] <= row["fills"]
    # informed fills end adverse far more often than the background's: the truth split works
    assert row["adverse_pct_informed"] > 5 * row["adverse_pct_background"]
    assert row["features"], "no feature varied"
    for f in row["features"].values():
        assert -1.0 <= f["spearman"] <= 1.0
        assert 0.0 <= f["auc"] <= 1.0 or np.isnan(f["auc"])


def test_market_scores_when_v3_market_then_the_spread_ranks_adverse_fills_and_the_signed_flow_does_not():
    """toxic_burst_v3's lead says when (the book thins and widens), not which way: the
    spread before a trade ranks its adverse selection, the signed flow hardly does."""
    row = market_scores("toxic_burst_v3", 101, 700.0)
    f = row["features"]
    assert row["adverse_pct_informed"] > 5 * row["adverse_pct_background"]
    assert f["spread_bps"]["auc"] > 0.7
    assert f["flow_adv"]["auc"] < 0.65 and f["imb_adv"]["auc"] < 0.6
