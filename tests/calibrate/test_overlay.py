"""The overlay round-trips through the config loader; unknown keys are refused."""

import dataclasses

import pytest

from appliance.calibrate import overlay
from appliance.config import ConfigError, load_config


def test_overlay_when_rendered_then_loader_reads_every_fitted_value_and_defaults_the_rest(tmp_path):
    ov = {"estimator": {"kappa_prior_per_bps": 12.5},
          "estimator.hawkes": {"mu_prior_per_s": 3.25, "mu_sell_prior_per_s": 2.5},
          "estimator.adverse_selection": {"as0_prior_bps": 0.75, "reference_horizon_ms": 500},
          "estimator.vol": {"kurtosis_as_k": 0.0}}
    text = overlay.render(ov, ["a header", ""])
    assert text.startswith("# a header\n#\n")
    p = tmp_path / "o.toml"
    p.write_text(text)
    cfg = load_config(p)
    assert overlay.check(text) == cfg
    assert cfg.estimator.kappa_prior_per_bps == 12.5
    assert cfg.estimator.hawkes.mu_sell_prior_per_s == 2.5
    assert cfg.estimator.adverse_selection.reference_horizon_ms == 500
    assert cfg.estimator.vol.kurtosis_as_k == 0.0
    base = load_config()
    assert cfg.quote == base.quote
    assert dataclasses.replace(cfg.estimator.drift) == base.estimator.drift


def test_overlay_when_key_unknown_then_config_error_names_it():
    with pytest.raises(ConfigError, match="estimator.hawkes.nope"):
        overlay.check(overlay.render({"estimator.hawkes": {"nope": 1.0}}, []))
