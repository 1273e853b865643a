"""The report's ``two_sided_share``: both sides resting within the max half-spread,
over the sampled time not pulled (issue 16)."""

import numpy as np

from appliance.backtest.report import two_sided_share
from shm_layout.backtest_records import BT_SAMPLE


def _samples(rows):
    s = np.zeros(len(rows), BT_SAMPLE)
    for i, (mid, bid, ask, pull) in enumerate(rows):
        s[i]["mid_px"], s[i]["our_bid_px"], s[i]["our_ask_px"], s[i]["should_pull"] = mid, bid, ask, pull
    return s


def test_two_sided_share_when_mixed_samples_then_counts_only_unpulled_and_within_cap():
    nan = np.nan
    s = _samples([(100.0, 99.99, 100.01, 0),   # both within 10 bps: counts
                  (100.0, nan, 100.01, 0),     # no bid
                  (100.0, 99.0, 100.01, 0),    # bid 100 bps away: beyond the cap
                  (100.0, nan, nan, 1),        # pulled: not in the denominator
                  (nan, nan, nan, 0)])         # no mid yet: not in the denominator
    assert two_sided_share(s, 10.0) == 1 / 3
    assert two_sided_share(s, 200.0) == 2 / 3


def test_two_sided_share_when_no_samples_or_all_pulled_then_none():
    assert two_sided_share(None, 10.0) is None
    assert two_sided_share(_samples([(100.0, 99.0, 101.0, 1)]), 10.0) is None
