"""issue 16: unified pulls a side the toxicity model calls informed (opt-in knobs)."""

from quote_helpers import cfg_vector, ladder, params


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
