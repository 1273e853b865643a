"""Several coins: each has its own MarketParams, TargetLadder and PositionState."""

import json
import os

from appliance_helpers import force_cleanup, mmctl, wait_for, write_config


def _inspect(instance, what, coin):
    return json.loads(mmctl("inspect", what, "--coin", coin, "--instance", instance,
                            "--json").stdout)


def test_start_when_two_coins_then_each_coin_has_its_own_live_blocks(tmp_path):
    instance = f"coins{os.getpid()}"
    cfg, _ = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[appliance]\n", '[appliance]\ncoins = ["BTC", "ETH"]\n'))
    try:
        mmctl("start", "--instance", instance, "--config", cfg)
        for coin in ("BTC", "ETH"):
            assert wait_for(lambda c=coin: _inspect(instance, "params", c)["fields"]["valid"], 60)
        btc = _inspect(instance, "params", "BTC")["fields"]
        eth = _inspect(instance, "params", "ETH")["fields"]
        assert btc["coin"] == 0 and eth["coin"] == 1
        assert eth["mid_px"] < btc["mid_px"] / 5  # the synthetic second coin trades lower
        assert wait_for(lambda: _inspect(instance, "ladder", "ETH")["fields"]["n_bids"] > 0, 30)
        lad = _inspect(instance, "ladder", "ETH")["fields"]
        assert lad["bid_px"][0] < eth["best_ask_px"] * 1.01
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)
