import pytest

from appliance.config import ConfigError, config_to_toml, load_config, wait_policy
from appliance.supervisor.cores import CoresError, assign, parse_cores


def test_load_when_no_file_then_builtin_defaults():
    cfg = load_config()
    assert cfg.appliance.coins == ("BTC",)
    assert cfg.quote.gamma == 0.3 and cfg.quote.min_spread_bps == 8.0 and cfg.quote.n_levels == 5
    assert cfg.quote.maker_fee_bps == 1.5 and cfg.risk.metrics_port == 9817
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
        # sizes (issue 16): the one in force must be > 0, none negative, per coin too
        ("[risk]\nmax_position_usd = 0\n", "risk.max_position_usd: must be > 0"),
        ("[risk]\nmax_position_usd = 0\nmax_position_sz = -1\n", "risk.max_position_sz"),
        ("[quote]\nlevel_size_usd = 0\n", "quote.level_size_usd: must be > 0"),
        ("[quote]\ntotal_size_sz = -0.1\n", "quote.total_size_sz"),
        ("[quote]\nper_coin = ['ETH:level_size_usd=0']\n", "(quote.per_coin ETH)"),
        ("[quote]\nper_coin = ['ETH:gamma=1']\n", "quote.per_coin"),
        ("[quote]\nper_coin = ['ETH:level_size_usd=abc']\n", "quote.per_coin"),
        ("[gateway]\nkeep_tolerance_bps = -1\n", "gateway.keep_tolerance_bps"),
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


# --- config that cannot disable safety (issue 12, item 6) ---------------------------------

@pytest.mark.parametrize(
    "text, key",
    [
        ("[risk]\nmax_position_sz = inf\n", "risk.max_position_sz"),
        ("[risk]\nmax_position_sz = nan\n", "risk.max_position_sz"),
        ("[risk]\nmax_loss_usd = -inf\n", "risk.max_loss_usd"),
        ("[supervisor]\nheartbeat_timeout_ms = 0\n", "supervisor.heartbeat_timeout_ms"),
        ("[risk]\nstale_data_s = 0\n", "risk.stale_data_s"),
        ("[quote]\nmin_spread_bps = -5\n", "quote.min_spread_bps"),
        ("[quote]\nmin_spread_bps = 0\n", "quote.min_spread_bps"),
        ("[risk]\nmax_drawdown_usd = 0\n", "risk.max_drawdown_usd"),
        ("[risk]\ncheck_interval_ms = 0\n", "risk.check_interval_ms"),
        ("[risk]\nmax_margin_util_frac = 1.5\n", "risk.max_margin_util_frac"),
        ("[risk.pretrade]\nmax_open_orders = 0\n", "risk.pretrade.max_open_orders"),
        ("[risk.pretrade]\nprice_band_bps = -1\n", "risk.pretrade.price_band_bps"),
        ("[supervisor]\nmax_restarts = 0\n", "supervisor.max_restarts"),
        ("[supervisor]\nrestart_backoff_max_ms = 10\n", "supervisor.restart_backoff_max_ms"),
        ("[quote]\nparams_stale_ms = 0\n", "quote.params_stale_ms"),
        ("[clock]\ncheck_interval_s = 0\n", "clock.check_interval_s"),
        ("[clock]\nntp_timeout_s = inf\n", "clock.ntp_timeout_s"),
        ("[gateway]\nposition_check_s = 0\n", "gateway.position_check_s"),
        ("[gateway]\nvenue_pull_ms = 100\n", "gateway.venue_pull_ms"),
        ("[gateway]\nbatch_window_ms = nan\n", "gateway.batch_window_ms"),
        ("[venue]\nspeed = inf\n", "venue.speed"),
        ("[estimator.vol]\nfast_halflife_s = inf\n", "estimator.vol.fast_halflife_s"),
        ("[quote]\ntod_gamma_mult = [" + ", ".join(["1.0"] * 23) + ", inf]\n",
         "quote.tod_gamma_mult[23]"),
        # the heartbeat rule: >= 2 x http_timeout_s x 1000 + 1000
        ("[supervisor]\nheartbeat_timeout_ms = 3999\n", "supervisor.heartbeat_timeout_ms"),
        ("[gateway]\nhttp_timeout_s = 3.0\n", "supervisor.heartbeat_timeout_ms"),
        ("[risk]\ngateway_lost_ms = 1000\n", "risk.gateway_lost_ms"),
        # the mainnet guard: every way to reach mainnet without network = "mainnet"
        ("[gateway]\napi_url = 'https://api.hyperliquid.xyz'\n", "gateway.api_url"),
        ("[gateway]\nnetwork = 'testnet'\napi_url = 'https://api.hyperliquid.xyz'\n",
         "gateway.api_url"),
        ("[gateway]\nnetwork = 'testnet'\napi_url = 'HTTPS://API.Hyperliquid.XYZ:443/info'\n",
         "gateway.api_url"),
        ("[gateway]\nnetwork = 'testnet'\napi_url = 'wss://api.hyperliquid.xyz/ws'\n",
         "gateway.api_url"),
        ("[gateway]\nnetwork = 'testnet'\napi_url = 'http://user@api-ui.hyperliquid.xyz./'\n",
         "gateway.api_url"),
        ("[gateway]\nnetwork = 'testnet'\napi_url = 'api.hyperliquid.xyz'\n", "gateway.api_url"),
        ("[gateway]\napi_url = 'ftp://127.0.0.1:8787'\n", "gateway.api_url"),
    ],
)
def test_load_when_limit_disabled_or_unsafe_then_refused_naming_the_key(tmp_path, text, key):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(e.value).startswith(key + ":"), str(e.value)


def _float_keys(obj, prefix=""):
    import dataclasses

    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            yield from _float_keys(v, f"{prefix}{f.name}.")
        elif isinstance(v, float):
            yield f"{prefix}{f.name}"


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_load_when_any_float_not_finite_then_refused_naming_it(value):
    from appliance.config.loader import config_from_dict

    keys = list(_float_keys(load_config()))
    assert len(keys) > 100  # every section and sub-table is walked
    for key in keys:
        *path, name = key.split(".")
        data = node = {}
        for part in path:
            node = node.setdefault(part, {})
        node[name] = value
        with pytest.raises(ConfigError) as e:
            config_from_dict(data)
        assert str(e.value).startswith(key + ":"), (key, str(e.value))


@pytest.mark.parametrize(
    "network, url",
    [("mainnet", "https://api.hyperliquid.xyz"), ("testnet", "https://api.hyperliquid-testnet.xyz"),
     ("local", "http://127.0.0.1:8787"), ("testnet", "https://hyperliquid.xyz.example.org")],
)
def test_load_when_url_matches_network_then_accepted(tmp_path, network, url):
    p = tmp_path / "c.toml"
    p.write_text(f"[gateway]\nnetwork = '{network}'\napi_url = '{url}'\n")
    assert load_config(p).gateway.api_url == url


def test_defaults_when_loaded_then_heartbeat_rule_holds_with_room():
    from appliance.config.limits import heartbeat_rule_ms

    cfg = load_config()
    assert cfg.supervisor.heartbeat_timeout_ms >= heartbeat_rule_ms(cfg) == 4000
    assert load_config("ops/default.toml") == cfg  # the annotated example is the defaults


def test_api_url_when_mainnet_host_arrives_by_environment_then_refused(monkeypatch, tmp_path):
    from appliance.hyperliquid import venue_access

    cfg = load_config(overrides={"appliance": {"state_dir": str(tmp_path)}})
    monkeypatch.setenv(venue_access.VENUE_URL_ENV, "https://api.hyperliquid.xyz")
    with pytest.raises(RuntimeError, match="MAINNET"):
        venue_access.api_url(cfg, "x")


def _mmctl(*args, env=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "appliance.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(
    "extra, args, needle",
    [
        ("", ["--network", "mainnet"], "MAINNET"),
        ("[gateway]\nnetwork = 'mainnet'\napi_url = 'https://api.hyperliquid.xyz'\n", [], "MAINNET"),
        ("[gateway]\napi_url = 'https://api.hyperliquid.xyz'\n", ["--network", "testnet"],
         "gateway.api_url"),
        ("[risk]\nmax_position_sz = inf\n", ["--network", "testnet"], "risk.max_position_sz"),
        ("[risk]\ndisabled_checks = ['cascade']\n", ["--venue", "paper", "--cores", "9999"], "--cores"),
    ],
)
def test_start_when_refused_then_nothing_written(tmp_path, extra, args, needle):
    import os

    key = tmp_path / "k.hex"
    key.write_text("0x" + "11" * 32)
    key.chmod(0o600)
    sd = tmp_path / "state"
    cfg = tmp_path / "mm.toml"
    cfg.write_text(f'[appliance]\nstate_dir = "{sd}"\n' + extra)
    env = {k: v for k, v in os.environ.items() if k != "MM_HL_PRIVATE_KEY"}
    p = _mmctl("start", "--instance", f"refused{os.getpid()}", "--config", cfg,
               "--key-file", key, *args, env=env)
    assert p.returncode != 0, p.stdout
    assert needle in p.stderr, p.stderr
    assert not sd.exists(), list(sd.rglob("*"))  # no state dir, no mmctl-start.toml
    if "disabled_checks" in extra:
        assert "WARNING: risk check 'cascade' is DISABLED" in p.stderr


def test_sizes_when_defaults_then_in_usd_and_coin_overrides_off():
    cfg = load_config()
    assert cfg.quote.level_size_usd >= cfg.quote.min_notional_usd and cfg.quote.order_size_sz == 0.0
    assert cfg.quote.total_size_sz == 0.0 and cfg.risk.max_position_sz == 0.0
    assert cfg.risk.max_position_usd > cfg.quote.level_size_usd * cfg.quote.n_levels


def test_sizes_when_per_coin_entries_then_applied_to_that_coin_only():
    from appliance.config import sizing

    cfg = load_config(overrides={"quote": {"per_coin": ["ETH:level_size_usd=50", "ETH:max_position_sz=1"]}})
    q, r = sizing.for_coin(cfg.quote, cfg.risk, "ETH")
    assert q.level_size_usd == 50.0 and r.max_position_sz == 1.0
    assert sizing.for_coin(cfg.quote, cfg.risk, "BTC") == (cfg.quote, cfg.risk)
    assert sizing.coin_max_position_sz(cfg, "ETH", 3000.0) == 1.0  # in coin: the mid does not matter
    assert sizing.coin_max_position_sz(cfg, "BTC", 50_000.0) == cfg.risk.max_position_usd / 50_000.0
