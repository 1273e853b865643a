"""The venue server's settings: ``[venue]`` of the config (``VenueConfig``, the one
declaration of the venue's options and defaults) plus what a run adds.

``VenueSettings`` extends ``VenueConfig`` with the coins (``[appliance] coins``), the
market source resolved (``[venue] source``, else ``[feed] source``) and the synthetic
market's options (from ``[feed]``). Frozen like the config: change one with
``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from appliance.config import Config
from appliance.config.schema import VenueConfig


@dataclass(frozen=True)
class VenueSettings(VenueConfig):
    source: str = "synthetic"  # resolved: never empty here
    coins: tuple[str, ...] = ("BTC",)
    synthetic_kw: dict = field(default_factory=dict)  # SyntheticWalkSource options


def parse_fund(spec: str) -> tuple[str, float]:
    """``ADDRESS:USDC`` -> (address, usdc)."""
    addr, sep, amount = spec.rpartition(":")
    if not sep or not addr:
        raise ValueError(f"expected ADDRESS:USDC, got {spec!r}")
    try:
        usdc = float(amount)
    except ValueError as exc:
        raise ValueError(f"bad USDC amount in {spec!r}") from exc
    if not usdc > 0:
        raise ValueError(f"USDC amount must be > 0 in {spec!r}")
    return addr, usdc


def settings_from_config(cfg: Config, **overrides: object) -> VenueSettings:
    """From a loaded ``Config``: its ``[venue]``, the appliance coins, the market source
    (``[venue] source`` or else ``[feed] source``); ``overrides`` that are not None win."""
    v = cfg.venue
    f = cfg.feed
    source = v.source or f.source
    synthetic_kw = {}
    if source.startswith("synthetic"):
        synthetic_kw = {"sigma_bps_per_sqrt_s": f.synthetic_sigma_bps_per_sqrt_s,
                        "start_px": f.synthetic_start_px, "tick_px": f.synthetic_tick_px,
                        "events_per_s": f.synthetic_events_per_s}
    base = {fl.name: getattr(v, fl.name) for fl in dataclasses.fields(VenueConfig)}
    base.update(source=source, coins=tuple(cfg.appliance.coins), synthetic_kw=synthetic_kw)
    base.update({k: val for k, val in overrides.items() if val is not None})
    return VenueSettings(**base)
