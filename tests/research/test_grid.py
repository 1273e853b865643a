"""The grid file: both spellings of a key, the product in file order, values typed by
the schema, and an error naming the key for every way a grid can be wrong."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.research.grid import GridError, load_grid, parse_grid

BASE = load_config()


def test_parse_when_dotted_and_table_keys_then_product_in_file_order():
    g = parse_grid('"quote.gamma" = [0.1, 0.2]\n[risk]\nmax_position_sz = [0.01, 0.02, 0.03]\n', BASE)
    assert g.keys == ("quote.gamma", "risk.max_position_sz")
    assert len(g.points) == 6
    assert [p.index for p in g.points] == list(range(6))
    assert g.points[0].params == (("quote.gamma", 0.1), ("risk.max_position_sz", 0.01))
    assert g.points[1].params == (("quote.gamma", 0.1), ("risk.max_position_sz", 0.02))
    assert g.points[5].cfg.quote.gamma == 0.2 and g.points[5].cfg.risk.max_position_sz == 0.03
    assert g.points[5].label == "quote.gamma=0.2, risk.max_position_sz=0.03"


def test_parse_when_int_for_float_key_then_value_typed_by_schema():
    g = parse_grid('"quote.min_spread_bps" = [4, 8]\n', BASE)
    assert [p.params[0][1] for p in g.points] == [4.0, 8.0]
    assert all(isinstance(p.cfg.quote.min_spread_bps, float) for p in g.points)


def test_parse_when_estimator_subtable_then_only_that_key_changes():
    base_vol = BASE.estimator.vol
    key, value = "fast_halflife_s", base_vol.fast_halflife_s * 2
    g = parse_grid(f"[estimator.vol]\n{key} = [{value}]\n", BASE)
    vol = g.points[0].cfg.estimator.vol
    assert getattr(vol, key) == value
    others = [f for f in vars(base_vol) if f != key]
    assert others and all(getattr(vol, f) == getattr(base_vol, f) for f in others)


def test_parse_when_base_config_then_points_keep_its_other_values(tmp_path):
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[quote]\nn_levels = 2\n")
    base = load_config(cfg_file)
    g = parse_grid('"quote.gamma" = [0.1]\n', base)
    assert g.points[0].cfg.quote.n_levels == 2 and g.points[0].cfg.quote.gamma == 0.1


@pytest.mark.parametrize("text, message", [
    ('"quote.gamma_base" = [0.1]\n', "grid key 'quote.gamma_base': unknown key 'gamma_base' in [quote]"),
    ('"quoting.gamma" = [0.1]\n', "unknown key 'quoting' in the configuration"),
    ('"quote.gamma" = [-1.0]\n', "grid key 'quote.gamma' = -1.0: quote.gamma: must be > 0"),
    ('"backtest.queue_model" = ["fifo"]\n', "'fifo' is not one of risk_averse"),
    ('"quote.n_levels" = [1.5]\n', "quote.n_levels: expected an integer"),
    ('"quote" = [1]\n', "grid key 'quote' is a table"),
    ('"quote.gamma.x" = [1]\n', "'quote.gamma' is a value, not a table"),
    ('"quote.gamma" = 0.1\n', "expected a list of values to try"),
    ('"quote.gamma" = []\n', "an empty list"),
    ('"quote.gamma" = [0.1, 0.1]\n', "a value is repeated"),
    ("", "no keys"),
    ("quote.gamma = [\n", "grid"),
])
def test_parse_when_grid_is_wrong_then_error_names_it(text, message):
    with pytest.raises(GridError) as err:
        parse_grid(text, BASE)
    assert message in str(err.value)


def test_parse_when_values_valid_alone_but_not_together_then_error_names_the_point():
    # twice quote.max_half_spread_bps must cover quote.min_spread_bps: 100 and 300 are
    # each valid with the other's default (200, 8), not together
    text = '"quote.min_spread_bps" = [8.0, 300.0]\n"quote.max_half_spread_bps" = [200.0, 100.0]\n'
    with pytest.raises(GridError) as err:
        parse_grid(text, BASE)
    assert "grid point quote.min_spread_bps=300.0, quote.max_half_spread_bps=100.0" in str(err.value)
    assert "quote.max_half_spread_bps: twice it must cover" in str(err.value)


def test_load_when_file_missing_then_error_names_it(tmp_path):
    with pytest.raises(GridError, match="does not exist"):
        load_grid(tmp_path / "none.toml", BASE)
