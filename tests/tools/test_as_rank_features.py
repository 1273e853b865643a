"""tools/as_rank_features.py and tools/crossfit_table.py: the block bootstrap of a
Spearman, the study on a real capture, and the table rendered from stored results."""

from pathlib import Path

import numpy as np
import pytest

from tools.as_rank_features import analyse, block_bootstrap_spearman

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CM_ETH = DATA / "binance_cm" / "ethusd_perp_20240808.gz"


def test_block_bootstrap_when_blocks_are_copies_then_interval_is_wider_than_iid():
    """Each 10 s block is one draw repeated 50 times: the effective sample is the number
    of blocks, and the interval must say so (wider than 0.1 around a true +0.3)."""
    rng = np.random.default_rng(1)
    n_blocks = 40
    x0 = rng.normal(size=n_blocks)
    y0 = 0.3 * x0 + rng.normal(size=n_blocks)
    x, y = np.repeat(x0, 50), np.repeat(y0, 50)
    t = np.repeat(np.arange(n_blocks) * 10.0, 50) + np.tile(np.linspace(0, 9.9, 50), n_blocks)
    lo, hi = block_bootstrap_spearman(x, y, t, 10.0, 200)
    assert lo < 0.3 < hi and hi - lo > 0.3


@pytest.mark.skipif(not CM_ETH.exists(), reason=f"capture missing: {CM_ETH}")
def test_analyse_when_real_capture_then_one_row_per_feature_with_an_interval():
    rows = analyse("cm_eth", str(CM_ETH), "ETH", 10.0, 20)
    body = [r for r in rows if r.startswith("| ") and ("pre-trade" in r or "fill-time" in r)]
    assert len(body) == 8 and rows[0].startswith("**cm_eth**")
    assert all(r.count("[") == 1 for r in body)
