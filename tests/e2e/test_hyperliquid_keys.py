"""Start-up with the wrong key, an unsafe key file, and mainnet without confirmation:
clear errors, the kill flag, and the key never written anywhere."""

import os

from appliance_helpers import force_cleanup, mmctl, status, wait_for, write_config
from hl_e2e_helpers import TRADING_CONFIG, gateway_stats, venue_open_orders, venue_url

UNFUNDED_KEY = "0x" + "5a" * 32  # a valid secp256k1 key no venue account knows


def _key_file(tmp, mode=0o600):
    path = tmp / "wrong.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(UNFUNDED_KEY + "\n")
    os.chmod(path, mode)
    return path


def test_start_when_key_unknown_to_venue_then_clear_error_and_kill_flag(tmp_path):
    instance = f"hlkey{os.getpid()}"
    cfg, _ = write_config(tmp_path, TRADING_CONFIG)
    key = _key_file(tmp_path)
    try:
        mmctl("start", "--instance", instance, "--config", cfg, "--key-file", key)
        assert wait_for(lambda: status(instance)["kill"]["active"], 30)
        k = status(instance)["kill"]
        assert k["source"] == "gateway" and "does not exist" in k["reason"]
        st = gateway_stats(tmp_path, instance)
        assert "unfunded account or unapproved API wallet" in st["fatal"]
        assert venue_open_orders(venue_url(tmp_path, instance), st["account"]) == []
    finally:
        mmctl("stop", "--instance", instance, check=False)
        force_cleanup(instance)
    secret = UNFUNDED_KEY[2:]
    for f in (tmp_path / f"state-{instance}").iterdir():
        if f.is_file() and f.name != "mmctl-start.toml":
            assert secret not in f.read_text(errors="replace"), f"key leaked into {f.name}"


def test_start_when_key_file_readable_by_others_then_refused(tmp_path):
    cfg, _ = write_config(tmp_path)
    key = _key_file(tmp_path, 0o644)
    p = mmctl("start", "--instance", f"hlbad{os.getpid()}", "--config", cfg, "--key-file", key,
              check=False)
    assert p.returncode != 0 and "chmod 600" in p.stderr


def test_start_when_mainnet_without_confirmation_then_refused(tmp_path):
    cfg, _ = write_config(tmp_path)
    key = _key_file(tmp_path)
    p = mmctl("start", "--instance", f"hlmain{os.getpid()}", "--config", cfg, "--venue", "hyperliquid",
              "--network", "mainnet", "--key-file", key, check=False)
    assert p.returncode != 0 and "--i-understand-this-is-mainnet" in p.stderr
