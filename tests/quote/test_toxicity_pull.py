"""issue 16: unified pulls a side the toxicity model calls informed (opt-in knobs)."""

from quote_helpers import cfg_vector, ladder, params

from shm_layout.constants import PULL_REASON_NAMES, PULL_TOXIC


def test_pull_when_off_then_a_toxic_side_is_still_quoted():
    _, lad = ladder(params(toxicity_ask=0.9, toxicity_bid=0.1))
    assert lad["n_bids"] > 0 and lad["n_asks"] > 0


def test_pull_when_one_side_above_the_other_by_the_gap_then_only_that_side_goes():
    cfg = cfg_vector(toxicity_pull_gap=0.2)
    _, lad = ladder(params(toxicity_ask=0.6, toxicity_bid=0.3), cfg=cfg)
    assert lad["n_asks"] == 0 and lad["n_bids"] > 0
    _, lad = ladder(params(toxicity_ask=0.45, toxicity_bid=0.3), cfg=cfg)  # under the gap
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_pull_when_both_above_the_level_then_both_go_but_the_gap_alone_keeps_them():
    _, lad = ladder(params(toxicity_ask=0.7, toxicity_bid=0.65), cfg=cfg_vector(toxicity_pull_p=0.6))
    assert lad["n_asks"] == 0 and lad["n_bids"] == 0
    _, lad = ladder(params(toxicity_ask=0.7, toxicity_bid=0.65), cfg=cfg_vector(toxicity_pull_gap=0.2))
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_pull_when_preset_without_as_then_it_never_acts():
    cfg = cfg_vector("no_as", toxicity_pull_gap=0.2, toxicity_pull_p=0.5)
    _, lad = ladder(params(toxicity_ask=0.9, toxicity_bid=0.1), cfg=cfg)
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_spread_pull_when_spread_far_above_fair_then_both_sides_go():
    """Liquidity withdrawal (issue 16): the book has widened to 4x its fair spread, so a
    move is coming whose side is unknown; at 3x fair neither side is quoted."""
    cfg = cfg_vector(toxicity_pull_spread_ratio=3.0)
    reason, lad = ladder(params(spread_bps=0.4, fair_spread_bps=0.1), cfg=cfg)
    assert lad["n_asks"] == 0 and lad["n_bids"] == 0
    # the operator is told why (mmctl inspect, the start-up verdict), not "no edge"
    assert reason == PULL_TOXIC and lad["pulled_reason"] == PULL_TOXIC
    assert PULL_REASON_NAMES[PULL_TOXIC] == "toxic"


def test_spread_pull_when_spread_near_fair_or_fair_unknown_then_both_quoted():
    cfg = cfg_vector(toxicity_pull_spread_ratio=3.0)
    for spread, fair in ((0.2, 0.1), (0.4, 0.0)):  # 2x fair; fair not learnt yet
        _, lad = ladder(params(spread_bps=spread, fair_spread_bps=fair), cfg=cfg)
        assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_spread_pull_when_off_or_preset_without_as_then_it_never_acts():
    p = params(spread_bps=0.4, fair_spread_bps=0.1)
    for cfg in (cfg_vector(toxicity_pull_spread_ratio=0.0),
                cfg_vector("no_as", toxicity_pull_spread_ratio=3.0),
                cfg_vector("legacy", toxicity_pull_spread_ratio=3.0)):
        _, lad = ladder(p, cfg=cfg)
        assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_spread_pull_when_a_sweep_shows_the_side_then_the_side_it_moves_away_from_returns():
    """Buyers sweeping the asks through 25 levels (the other side not at all): the move
    is up, our bids fill with it, so they are quoted again; the asks stay pulled."""
    cfg = cfg_vector(toxicity_pull_spread_ratio=3.0, toxicity_pull_sweep_levels=20.0)
    wide = dict(spread_bps=0.4, fair_spread_bps=0.1)
    _, lad = ladder(params(sweep_score_buy=25.0, sweep_score_sell=0.0, **wide), cfg=cfg)
    assert lad["n_bids"] > 0 and lad["n_asks"] == 0
    _, lad = ladder(params(sweep_score_buy=0.0, sweep_score_sell=25.0, **wide), cfg=cfg)
    assert lad["n_asks"] > 0 and lad["n_bids"] == 0
    # a short sweep, or sweeps both ways: the side is not shown, both stay pulled
    for up, down in ((10.0, 0.0), (25.0, 20.0)):
        _, lad = ladder(params(sweep_score_buy=up, sweep_score_sell=down, **wide), cfg=cfg)
        assert lad["n_bids"] == 0 and lad["n_asks"] == 0


def test_spread_pull_when_4x_fair_but_under_the_floor_in_bps_then_both_quoted():
    """A 4-tick spread on a book whose tick is 0.02 bps is flicker, not a withdrawal."""
    cfg = cfg_vector(toxicity_pull_spread_ratio=3.0, toxicity_pull_spread_min_bps=0.3)
    _, lad = ladder(params(spread_bps=0.08, fair_spread_bps=0.02), cfg=cfg)
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0


def test_spread_pull_when_the_spread_is_wide_for_one_sample_only_then_both_quoted():
    """The pull reads the spread held over the estimator's floor window (issue 16): on the
    six Binance captures every pull on the instant spread lasted one requote, and cost a
    cancel and a re-place of the whole ladder."""
    cfg = cfg_vector(toxicity_pull_spread_ratio=3.0)
    _, lad = ladder(params(spread_bps=0.4, fair_spread_bps=0.1, spread_floor_bps=0.1), cfg=cfg)
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0
    reason, lad = ladder(params(spread_bps=0.4, fair_spread_bps=0.1, spread_floor_bps=0.35), cfg=cfg)
    assert lad["n_asks"] == 0 and lad["n_bids"] == 0 and reason == PULL_TOXIC
    # held wide, but the book has just come back: the spread now decides
    _, lad = ladder(params(spread_bps=0.1, fair_spread_bps=0.1, spread_floor_bps=0.35), cfg=cfg)
    assert lad["n_asks"] > 0 and lad["n_bids"] > 0
