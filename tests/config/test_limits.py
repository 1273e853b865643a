"""[risk.actions] and risk.disabled_checks: only known actions and checks are accepted."""

import pytest

from appliance.config import ConfigError, load_config


@pytest.mark.parametrize("risk,key", [
    ({"actions": {"position": "shrug"}}, "risk.actions.position"),
    ({"actions": {"nonsense": "kill"}}, "risk.actions.nonsense"),
    ({"disabled_checks": ["position", "vibes"]}, "risk.disabled_checks"),
    ({"widen_mult": 0.5}, "risk.widen_mult"),
    ({"widen_mult": float("inf")}, "risk.widen_mult"),
    ({"action_hold_s": -1.0}, "risk.action_hold_s"),
])
def test_risk_config_when_invalid_then_refused_with_key_named(risk, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(overrides={"risk": risk})


def test_risk_config_when_every_action_kind_then_accepted():
    cfg = load_config(overrides={"risk": {
        "actions": {"position": "pull", "cascade": "widen", "margin": "reduce_only", "clock": "kill"},
        "disabled_checks": ["rate_limit"]}})
    assert cfg.risk.actions.position == "pull" and cfg.risk.disabled_checks == ("rate_limit",)


@pytest.mark.parametrize("quote,key", [
    ({"toxicity_pull_spread_ratio": 0.8}, "quote.toxicity_pull_spread_ratio"),  # would pull always
    ({"toxicity_pull_spread_ratio": -2.0}, "quote.toxicity_pull_spread_ratio"),
    ({"toxicity_pull_sweep_levels": -1.0}, "quote.toxicity_pull_sweep_levels"),
    ({"toxicity_pull_spread_min_bps": -0.1}, "quote.toxicity_pull_spread_min_bps"),
])
def test_quote_withdrawal_pull_when_invalid_then_refused_with_key_named(quote, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(overrides={"quote": quote})
