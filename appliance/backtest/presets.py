"""Quoting presets a backtest can select (``--preset``): ``unified`` (the
configuration as given), ``legacy`` (the old system's behaviour, a yardstick) and
``no_as`` (GLFT without adverse-selection terms). The quote package defines them.
"""

from __future__ import annotations

from appliance.config import Config
from appliance.quote import presets as quote_presets

KNOWN_PRESETS = ("unified", "legacy", "no_as")


class PresetError(ValueError):
    """An unknown preset."""


def apply_preset(name: str, cfg: Config) -> Config:
    if name not in KNOWN_PRESETS:
        raise PresetError(f"unknown preset {name!r}; known: {', '.join(KNOWN_PRESETS)}")
    return quote_presets.apply_preset(name, cfg)
