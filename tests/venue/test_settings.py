"""One venue config: the venue's settings are ``[venue]`` (VenueConfig) plus the run's
coins and market source; no second set of defaults."""

from __future__ import annotations

import dataclasses

from appliance.config import load_config
from appliance.config.schema import VenueConfig
from appliance.venue.server.settings import VenueSettings, settings_from_config


def test_venue_settings_when_built_bare_then_every_venue_default_is_the_configs():
    bare, declared = VenueSettings(), VenueConfig()
    for f in dataclasses.fields(VenueConfig):
        if f.name != "source":  # "" in the config means [feed] source; resolved here
            assert getattr(bare, f.name) == getattr(declared, f.name), f.name
    assert bare.address_base_cap == declared.address_base_cap


def test_settings_from_config_when_venue_source_empty_then_feed_source_and_overrides_win():
    cfg = load_config(None)
    s = settings_from_config(cfg, port=0, seed=None)
    assert s.port == 0 and s.seed == cfg.venue.seed  # None leaves the config's value
    assert s.source == (cfg.venue.source or cfg.feed.source)
    assert s.coins == tuple(cfg.appliance.coins)
    assert s.address_base_cap == cfg.venue.address_base_cap
    if s.source.startswith("synthetic"):
        assert s.synthetic_kw["start_px"] == cfg.feed.synthetic_start_px
