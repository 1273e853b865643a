"""Typed, frozen configuration loaded from one TOML file over built-in defaults."""

from .loader import (
    ConfigError,
    config_from_dict,
    config_to_dict,
    config_to_toml,
    kill_switch_path,
    load_config,
    log_dir,
    recorder_dir,
    state_dir,
    wait_policy,
)
from .schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "config_from_dict",
    "config_to_dict",
    "config_to_toml",
    "kill_switch_path",
    "load_config",
    "log_dir",
    "recorder_dir",
    "state_dir",
    "wait_policy",
]
