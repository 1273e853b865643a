import pytest

from appliance.config import ConfigError, config_to_toml, load_config, wait_policy
from appliance.supervisor.cores import CoresError, assign, parse_cores


def test_load_when_no_file_then_builtin_defaults():
    cfg = load_config()
    assert cfg.appliance.coins == ("BTC",)
    assert cfg.quote.gamma == 0.3 and cfg.quote.min_spread_bps == 8.0 and cfg.quote.n_levels == 5
    assert cfg.quote.maker_fee_bps == 1.5 and cfg.risk.metrics_port == 9090
    assert wait_policy(cfg, "feed") == "hybrid"


def test_load_when_file_overrides_then_merged(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[appliance]\ncoins = ["BTC", "ETH"]\n[quote]\ngamma = 1\n[wait]\nquote = "spin"\n')
    cfg = load_config(p)
    assert cfg.appliance.coins == ("BTC", "ETH") and cfg.quote.gamma == 1.0
    assert wait_policy(cfg, "quote") == "spin" and wait_policy(cfg, "risk") == "hybrid"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[quote]\ngama = 0.3\n", "unknown key 'quote.gama'"),
        ("[quoting]\ngamma = 0.3\n", "unknown section '[quoting]'"),
        ("[quote]\ngamma = 'high'\n", "quote.gamma: expected a number"),
        ("[quote]\ngamma = -1\n", "quote.gamma: must be > 0"),
        ("[quote]\nn_levels = 50\n", "quote.n_levels"),
        ("[wait]\npolicy = 'nap'\n", "wait.policy"),
        ("[appliance]\ncoins = ['BTC', 'BTC']\n", "duplicate coin"),
        ("[risk\n", "config file"),
    ],
)
def test_load_when_config_bad_then_error_names_the_key(tmp_path, text, needle):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=None) as e:
        load_config(p)
    assert needle in str(e.value)


def test_load_when_file_missing_then_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_render_when_shown_then_toml_round_trips(tmp_path):
    cfg = load_config()
    p = tmp_path / "c.toml"
    p.write_text(config_to_toml(cfg))
    assert load_config(p) == cfg


def test_parse_cores_when_ranges_and_lists_then_sorted_unique():
    assert parse_cores("2-6") == [2, 3, 4, 5, 6]
    assert parse_cores("0,1, 3-4,1") == [0, 1, 3, 4]


@pytest.mark.parametrize("text", ["", "a", "3-1", "1,,2", "-1", "1-x"])
def test_parse_cores_when_invalid_then_clear_error(text):
    with pytest.raises(CoresError, match="invalid --cores"):
        parse_cores(text or ",")


def test_assign_when_fewer_cores_than_processes_then_shared_with_warning():
    cpu = min(__import__("os").sched_getaffinity(0))
    plan, warnings = assign(str(cpu))
    assert plan == [{cpu}] * 5 and "share" in warnings[0]


def test_assign_when_cpu_not_available_then_error_names_it():
    with pytest.raises(CoresError, match="CPU 999 not available"):
        assign("999")
